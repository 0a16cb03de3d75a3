"""``make run``'s web ``/metrics`` sums its gunicorn workers and the worker's children, and only them.

The tree is ``make run``'s (``memcache dev run``: gunicorn, a prefork worker, beat, Flower), with the
embedded Redis and PostgreSQL that ``dev run`` starts itself, as under ``make run``. Flower counts into
prometheus-client too; sharing the web's multiprocess directory, its ``flower_*`` series showed in the
web's ``/metrics``. Last, Ctrl-C must stop the tree and the servers it started. Nothing is mocked.
"""

from __future__ import annotations

import time

import psutil
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from memcache_platform.dev.process_tree import ProcessTree
from tests.conftest import TEST_VAR
from tests.support.tree import running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tree():
    with running(ProcessTree(TEST_VAR / "metrics-tree", embedded=True), "last-metrics-tree.log") as t:
        yield t


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _flower_metrics(tree: ProcessTree) -> str:
    url = f"http://127.0.0.1:{tree.flower_port}/metrics"
    return requests.get(url, auth=("admin", "tree"), timeout=10).text


def test_web_metrics_sum_web_and_worker_children_and_hold_no_flower_series(tree):
    assert tree.write("metrics-user", "My favourite food is pho").status_code == 201
    rebuilt = ("memcache_rebuilds_total", (("outcome", "rebuilt"),))
    deadline = time.monotonic() + 90
    while True:  # the rebuild runs in a worker child, another process than the web's
        web = _samples(requests.get(tree.url + "/metrics", timeout=10).text)
        flower = _flower_metrics(tree)
        if web.get(rebuilt, 0) >= 1 and "flower_events_total" in flower:
            break
        assert time.monotonic() < deadline, (web.get(rebuilt), flower[-2000:], tree.log()[-3000:])
        time.sleep(1)
    # Flower counted the task's events (its own /metrics says so), but none of it reached the web's.
    assert not [name for name, _ in web if name.startswith("flower_")]
    # Counted by a gunicorn worker, whatever the outcome (on a loaded machine the publish may time out).
    assert sum(v for (name, _), v in web.items() if name == "memcache_handoffs_total") >= 1
    assert web[rebuilt] >= 1  # counted by a Celery worker child


def test_ctrl_c_stops_the_tree_and_the_servers_it_started(tree):
    """Last: SIGINT to ``memcache dev run`` stops every Procfile process, then its embedded servers."""
    servers = tree.server_processes()
    assert {p.name() for p in servers} == {"redis-server", "postgres"}, servers  # started by dev run
    pids = [tree.main_process(name).pid for name in tree.processes()] + [p.pid for p in servers]
    assert tree.stop() in (0, 130)  # 130: the shell's status for a command ended by Ctrl-C
    alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not alive, [psutil.Process(pid).cmdline() for pid in alive]
    assert not tree.server_processes()
    tree.proc = None  # stopped: the fixture's teardown has nothing left to do
