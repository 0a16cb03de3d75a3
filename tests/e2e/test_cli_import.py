"""``memcache import``, run for real (``.venv/bin/memcache`` in a subprocess) against the session app.

The app is served as in test_cli.py (werkzeug in a thread of this process, the session's Redis,
PostgreSQL, Mem0 and worker), so the hand-off counter the server bumps is this process's metric.
The interrupted run gets a real SIGINT; a gate in front of the app holds the run's second batch
until the signal is sent, so the interruption always falls between two batches of the same user.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from memcache_platform.dev.servers import free_port
from tests.conftest import ADMIN_KEY
from tests.e2e.test_cli import MEMCACHE, ROOT, api_url, closed_url, memcache, ok_json  # noqa: F401 - api_url: the fixture
from tests.integration.api.test_memory_batch import OUTCOMES
from tests.support.metrics import sample

pytestmark = pytest.mark.integration
FACTS = ("I love {f}", "My favourite {t} is {f}", "I'm good at {f}", "I have a pet named {f}")


class Gate:
    """WSGI middleware: batch requests after the first ``open_for`` wait until ``release`` is set."""

    def __init__(self, app, open_for: int) -> None:  # type: ignore[no-untyped-def]
        self.app, self.left = app, open_for
        self.held, self.release = threading.Event(), threading.Event()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ["PATH_INFO"].endswith("/memories/batch"):
            with self.lock:
                self.left -= 1
                wait = self.left < 0
            if wait:
                self.held.set()
                self.release.wait(30)
        return self.app(environ, start_response)


@pytest.fixture
def gated(app) -> Iterator[tuple[Gate, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """The session app behind a gate that lets one batch through, and a shell pointed at it."""
    gate = Gate(app, open_for=1)
    server = make_server("127.0.0.1", free_port(), gate, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shell = os.environ | {
        "MEMCACHE_API_URL": f"http://127.0.0.1:{server.server_port}",
        "MEMCACHE_API_KEY": ADMIN_KEY,
    }
    try:
        yield gate, shell
    finally:
        gate.release.set()
        server.shutdown()
        thread.join(10)


@pytest.fixture
def shell(api_url: str) -> dict[str, str]:  # noqa: F811 - the fixture imported above
    """The shell of a user who pointed the CLI at the (ungated) platform."""
    return os.environ | {"MEMCACHE_API_URL": api_url, "MEMCACHE_API_KEY": ADMIN_KEY}


def _handoffs() -> float:
    return sum(sample("memcache_handoffs_total", outcome=o) for o in OUTCOMES)


def _generate(path: Path, users: list[str], per_user: int) -> dict[str, int]:
    """A JSON Lines file of ``per_user`` records per user (interleaved, as logs are); facts per user."""
    lines = []
    for n in range(per_user):
        for u, user in enumerate(users):
            text = FACTS[n % len(FACTS)].format(f=f"thing{u}x{n}", t=f"topic{n}")
            record = {"user_id": user, "messages": [{"role": "user", "content": text}]}
            if n % 2:  # some records carry a time and metadata, as an application's logs would
                record |= {"created_at": f"2024-03-0{n}T10:00:00Z", "metadata": {"source": "logs"}}
            lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return {user: per_user for user in users}


def test_an_interrupted_import_resumes_without_writing_a_record_twice(
    gated, tmp_path, user_id, platform, celery_worker, wait_for
):
    gate, shell = gated
    users = [f"{user_id}-{i}" for i in range(3)]
    data = tmp_path / "chats.jsonl"
    facts = _generate(data, users, per_user=4)
    args = ["import", str(data), "--batch-size", "2", "--concurrency", "1", "--json"]
    dry = ok_json(memcache(*args, "--dry-run", env=shell))
    assert dry["users"] == {u: {"to_send": 4, "resumed": 0} for u in users}
    assert not (tmp_path / "chats.jsonl.import-state").exists()
    assert all(platform.mem0.get_all(user_id=u) == [] for u in users)  # a dry run writes nothing

    before = _handoffs()
    proc = subprocess.Popen(
        [MEMCACHE, *args], cwd=ROOT, env=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert gate.held.wait(60), "the import never sent its second batch"
    proc.send_signal(signal.SIGINT)  # Ctrl-C while the second batch is in flight
    gate.release.set()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    first = json.loads(out)
    assert first["interrupted"] is True
    assert first["batches"] == 2  # the first batch, and the one in flight at Ctrl-C, finished and kept
    assert first["written"] == 4
    assert 0 < first["written"] < sum(facts.values())

    second = ok_json(memcache(*args, env=shell))
    assert second["resumed"] == 4 and second["written"] == sum(facts.values()) - 4
    assert second["failed"] == 0 and second["skipped"] == 0  # nothing was sent twice
    batches = {u: first["users"].get(u, {}).get("batches", 0) + second["users"][u]["batches"] for u in users}
    assert batches == {u: math.ceil(n / 2) for u, n in facts.items()}
    assert first["handoffs"] + second["handoffs"] == sum(batches.values())
    assert _handoffs() - before == sum(batches.values())  # one hand-off per batch, not per record
    for user in users:
        texts = [r.memory for r in platform.mem0.get_all(user_id=user)]
        assert len(texts) == len(set(texts)) == facts[user], texts
        watermark = platform.watermarks.current(user)
        assert wait_for(
            lambda u=user, w=watermark: getattr(platform.l3.get(u), "built_from_watermark", 0) == w
        )

    again = ok_json(memcache(*args, env=shell))  # a third run finds everything imported
    assert (again["resumed"], again["batches"], again["written"]) == (sum(facts.values()), 0, 0)


def test_a_mem0_export_is_detected_and_imported_with_its_times(shell, tmp_path, user_id, platform):
    export = tmp_path / "mem0-export.json"
    memories = [
        {
            "id": "m-1",
            "memory": "Prefers dark mode",
            "user_id": user_id,
            "created_at": "2024-07-20T01:30:00-07:00",
            "metadata": {"type": "preference", "category": "ui"},
            "hash": "abc",
            "categories": ["ui"],
        },
        {"id": "m-2", "content": "Works at TechCorp", "user_id": f"{user_id}-b", "updated_at": None},
        {"id": "m-3", "memory": "prefers dark mode", "user_id": user_id},  # the same, in any case
    ]
    export.write_text(json.dumps({"memories": memories, "total": 3}, indent=2))
    done = ok_json(memcache("import", str(export), "--json", env=shell))
    assert done["format"] == "mem0"
    assert (done["written"], done["skipped"], done["failed"]) == (2, 1, 0)
    (dark,) = platform.mem0.get_all(user_id=user_id)
    assert dark.memory == "Prefers dark mode"
    assert dark.created_at.startswith("2024-07-20T01:30:00")
    assert dark.metadata["type"] == "preference" and dark.metadata.get("category") != "ui"
    assert [r.memory for r in platform.mem0.get_all(user_id=f"{user_id}-b")] == ["Works at TechCorp"]


def test_failed_records_are_listed_kept_out_of_the_state_and_exit_3(shell, tmp_path, user_id, platform):
    data = tmp_path / "some-bad.jsonl"
    data.write_text(
        json.dumps({"user_id": user_id, "memory": "Rides a unicycle"})
        + "\n\n"
        + json.dumps({"user_id": user_id, "memory": "Juggles", "created_at": "last week"})
        + "\n"
    )
    proc = memcache("import", str(data), env=shell)
    assert proc.returncode == 3, proc.stderr
    assert "1 written" in proc.stdout and "1 failed" in proc.stdout
    assert f"{user_id} line 3:" in proc.stdout and "invalid_created_at" in proc.stdout
    assert [r.memory for r in platform.mem0.get_all(user_id=user_id)] == ["Rides a unicycle"]
    rerun = memcache("import", str(data), "--json", env=shell)
    assert rerun.returncode == 3
    assert json.loads(rerun.stdout)["resumed"] == 1  # the failed one is tried again, the good one not


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "the file is empty"),
        ('{"user_id": "a", "memory": "x"}\n{"user_id": "a", "memory": \n', "line 2: not valid JSON"),
        ('{"user_id": "a b", "memory": "x"}\n', "line 1: user_id must be"),
        ('{"user_id": "a", "memory": "x", "messages": []}\n', "line 1: give exactly one of"),
        ('{"user_id": "a", "text": "x"}\n', "line 1: unknown field 'text'"),
        ('[{"memory": "x"}]', "memory #1: user_id must be"),
        (b"\xff\xfe garbage", "not UTF-8"),
    ],
)
def test_a_missing_or_garbled_file_exits_2_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "input.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    nowhere = os.environ | {"MEMCACHE_API_URL": closed_url(), "MEMCACHE_API_KEY": "k"}
    proc = memcache("import", str(path), env=nowhere)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "(invalid_import_file)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_platform_is_exit_1_and_a_dry_run_needs_none(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"user_id": "alice", "memory": "Likes tea"}) + "\n")
    nowhere = os.environ | {"MEMCACHE_API_URL": closed_url(), "MEMCACHE_API_KEY": "k"}
    proc = memcache("import", str(path), env=nowhere)
    assert proc.returncode == 1 and "(platform_unreachable)" in proc.stderr
    dry = memcache("import", str(path), "--dry-run", env=nowhere)
    assert dry.returncode == 0, dry.stderr
    assert "1 to send" in dry.stdout
