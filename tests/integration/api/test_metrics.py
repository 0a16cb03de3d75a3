"""``GET /metrics``: the default registry in one process, the sum of every process in multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_metrics_answers_without_a_key_in_the_prometheus_text_format(client, monkeypatch):
    from memcache_platform.metrics import HANDOFFS

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    HANDOFFS.labels("queued").inc()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    body = response.get_data(as_text=True)
    assert 'memcache_handoffs_total{outcome="queued"}' in body
    assert "redis://" not in body
    assert "postgresql://" not in body


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_metrics_sums_every_process_in_multiprocess_mode(tmp_path):
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two processes, like two gunicorn workers or Celery children
        _python(
            """
            from memcache_platform.metrics import HANDOFFS

            for _ in range(3):
                HANDOFFS.labels("failed").inc()
            """,
            env,
        )
    assert len(list(tmp_path.glob("counter_*.db"))) == 2

    body = _python(
        """
        from flask import Flask

        from memcache_platform.api import metrics

        app = Flask(__name__)
        app.register_blueprint(metrics.bp)
        response = app.test_client().get("/metrics")
        assert response.status_code == 200, response.status_code
        print(response.get_data(as_text=True))
        """,
        env,
    )
    assert 'memcache_handoffs_total{outcome="failed"} 6.0' in body
