"""K1's bookkeeping, on hand-made answers and faults: the soak itself runs in `make bench` only.

What is checked is how outcomes are counted (no process tree is needed for that): the fault
schedule, 5xx during a PostgreSQL outage counted apart, restarts caused on purpose, the targets.
"""

from __future__ import annotations

import random

from bench import faults, targets
from bench.scenarios import k1_soak
from bench.soak import Answer, FaultRecord


def _fault(name: str, started: float, ended: float) -> FaultRecord:
    return FaultRecord(name, started, ended, {}, {})


def test_schedule_is_seeded_and_every_fault_recurs():
    first = k1_soak._schedule(12, random.Random(10))
    assert first == k1_soak._schedule(12, random.Random(10))
    assert sorted(first[:6]) == sorted(faults.FAULTS) == sorted(first[6:])


def test_5xx_while_postgresql_is_down_are_counted_apart():
    pg, redis = _fault(faults.PG_OUTAGE, 100, 105), _fault("redis SIGSTOP 10 s", 200, 210)
    answers = [
        Answer("write", "u", 101, 0.5, 503, "memory_store_unavailable"),  # during the PostgreSQL outage
        Answer("write", "u", 99.5, 1.0, 503, "memory_store_unavailable"),  # sent before, answered during
        Answer("write", "u", 106, 0.1, 503, "memory_store_unavailable"),  # after it was back: counts
        Answer("search", "u", 205, 0.1, 500, "internal"),  # during a Redis hang: counts
        Answer("write", "u", 300, 30.0, 0, "ReadTimeout"),  # no answer
        Answer("write", "u", 301, 0.03, 201, None),
    ]
    r = k1_soak._requests(answers, [pg, redis], started=0)
    assert r["5xx_during_pg_outage"] == 2 and r["5xx_outside_pg_outage"] == 2
    assert r["no_answer"] == 1 and r["answered"] == 5
    assert r["5xx_by_code"] == {"503 memory_store_unavailable": 3, "500 internal": 1}
    assert r["by_kind"]["write"]["statuses"] == {"0": 1, "201": 1, "503": 3}


def test_only_restarts_caused_on_purpose_are_expected():
    fault_list = [_fault("beat SIGKILL", 0, 1), _fault("worker child SIGKILL", 30, 31)]
    start = {"beat.1": 0, "worker.1": 0, "web.1": 0}
    on_purpose = k1_soak._restarts(start, {"beat.1": 1, "worker.1": 0, "web.1": 0}, fault_list)
    assert on_purpose["unexpected"] == 0 and on_purpose["per_process"]["beat.1"] == {
        "restarts": 1,
        "expected": 1,
    }
    exited = k1_soak._restarts(start, {"beat.1": 1, "worker.1": 1, "web.1": 0}, fault_list)
    assert exited["unexpected"] == 1


def test_targets_fail_on_a_lost_write_a_5xx_or_an_exit():
    good = {
        "convergence": {"writes_not_converged": 0, "writes_accepted": 10, "faults_not_converged": []},
        "faults": [{"converged_s": 3.0}],
        "requests": {"5xx_outside_pg_outage": 0, "5xx_during_pg_outage": 4},
        "restarts": {"unexpected": 0, "per_process": {"beat.1": {"restarts": 1, "expected": 1}}},
        "processes_running": {"beat.1": True},
    }
    checks = {t.id: t.check for t in targets.TARGETS if t.scenario == "K1"}
    assert all(check(good)[2] for check in checks.values())
    lost = good | {"convergence": good["convergence"] | {"writes_not_converged": 1}}
    errors = good | {"requests": {"5xx_outside_pg_outage": 1, "5xx_during_pg_outage": 0}}
    exits = good | {"restarts": good["restarts"] | {"unexpected": 1}}
    stopped = good | {"processes_running": {"beat.1": False}}
    assert checks["K1-writes"](lost)[2] is False
    assert checks["K1-5xx"](errors)[2] is False
    assert checks["K1-exits"](exits)[2] is False and checks["K1-exits"](stopped)[2] is False
