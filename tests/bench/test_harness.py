"""The benchmark harness works: each scenario runs once at its tiny size against a real stack.

No timing is asserted (the machine is shared); only the shape of the results and sane values.
The stack is the bench's own (private Redis and PostgreSQL under var/bench/test-<pid>/, gunicorn
and a Celery worker), not the test session's servers.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bench import figures, targets
from bench.scenarios import ORDER, SCENARIOS, in_harness, own_stack
from bench.stack import BENCH_VAR, Stack, StackOptions

pytestmark = pytest.mark.integration
SHARED = [m.ID for m in ORDER if not own_stack(m)]
HARNESS = {m.ID for m in ORDER if in_harness(m)}  # K1, the soak, runs for minutes: make bench only
COLLECTED: dict[str, dict] = {}


@pytest.fixture(scope="module")
def bench_root():
    root = BENCH_VAR / f"test-{os.getpid()}"
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def options(bench_root: Path) -> StackOptions:
    return StackOptions(root=bench_root / "main", web_workers=1, worker_concurrency=1)


@pytest.fixture(scope="module")
def stack(options: StackOptions):
    with Stack(options) as running:  # stopped at the end, whatever failed
        yield running


def _ordered(stats: dict) -> None:
    assert stats["n"] > 0
    assert 0 < stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"]


def _dataset(d: dict) -> None:
    """A conversational data set was seeded and sized (bench/conversations.py)."""
    assert d["users"] > 0 and d["turns"] == d["users"] * d["turns_per_user"]
    assert (
        0 < d["memories_per_user"]["min"] <= d["memories_per_user"]["mean"] <= d["memories_per_user"]["max"]
    )


def check_w1(r: dict) -> None:
    _dataset(r["dataset"])
    assert r["facts_per_write"] >= 1
    for mode in ("raw", "A", "B"):
        assert r["latency_ms"][mode]["n"] == r["rounds"]
        _ordered(r["latency_ms"][mode])
    assert all(v > 0 for v in r["ratio_A_raw"].values()) and all(v > 0 for v in r["ratio_B_A"].values())


def check_w3(r: dict) -> None:
    for facts in ("1", "3"):
        _ordered(r["latency_ms"][facts])
    assert r["latency_ms"]["1"]["n"] == r["latency_ms"]["3"]["n"] > 0 and r["ratio_3_1"]["p50"] > 0
    load = r["throughput"]
    _dataset(load["dataset"])
    assert load["writes"] == load["latency_ms"]["n"] and load["facts"] >= load["writes"]
    assert sum(load["events"].values()) >= load["writes"]  # every turn decided something
    assert load["writes_per_s"] > 0 and r["throughput_vs_before"] > 0


def check_r1(r: dict) -> None:
    for tier in ("cold", "L2", "L1+L4"):
        assert r["latency_ms"][tier]["n"] == r["rounds"]
        _ordered(r["latency_ms"][tier])
    assert r["unexpected_tier"] == {"cold": 0, "L2": 0, "L1+L4": 0}
    assert r["ratio_cold_L2"]["p50"] > 0
    assert set(r["beside_healthz"]) == {"1", "16"}
    for one in r["beside_healthz"].values():
        for route in ("healthz", "L2"):
            _ordered(one[route]["latency_ms"])
            assert one[route]["errors"] == 0 and one[route]["req_s"] > 0
        assert one["not_l2"] == 0 and one["ratio_p50"] > 0


def check_r3(r: dict) -> None:
    assert r["errors"] == 0
    assert r["l4_searches_max"] >= 1  # the leader's search was counted through /metrics
    for one in r["rounds"]:
        assert sum(one["tiers"].values()) == r["threads"]


def check_r2(r: dict) -> None:
    _dataset(r["dataset"])
    without, with_ = r["without_warming"], r["with_warming"]
    assert without["writes"] == with_["writes"] and without["searches"] == with_["searches"] > 0
    for f in (without, with_):
        assert 0 <= f["hit_ratio"] <= 1
        assert f["tiers"]["L2"] + f["tiers"]["L4"] == f["searches"]
    assert with_["warm_wait_ms"]["n"] == with_["writes"]


def check_f1(r: dict) -> None:
    assert set(r["by_children"]) == {"1", "2"}
    for level in r["by_children"].values():
        assert level["timeouts"] == 0
        _ordered(level["L3_ms"])
        _ordered(level["L2_ms"])


def check_s1(r: dict) -> None:
    assert set(r["levels"]) == {"0%", "1%", "10%"}
    for level in r["levels"].values():
        planner, sweep = level["planner"], level["sweep"]
        assert planner["total"] >= r["users"] and planner["users_per_s"] > 0
        assert planner["dirty"] >= level["dirty_users"]
        assert sweep["dirty"] + sweep["aged"] + sweep["skipped"] == sweep["total"]
        assert sweep["rebuilt"] >= level["dirty_users"] and sweep["failed"] == 0
    assert r["levels"]["0%"]["planner"]["dirty"] == 0


def check_s2(r: dict) -> None:
    planning, memory = r["planning"], r["redis_memory"]
    assert planning["dirty_found"] == planning["dirty_loaded"] > 0  # a quiet plan finds exactly the 1%
    assert planning["dirty_found"] + planning["skipped"] == planning["users"]
    assert planning["users_per_s"] > 0 and planning["pages"] >= planning["users"] // 1000
    assert memory["bytes_per_user"]["watermark"] > 0 and memory["bytes_per_user_total"] > 0


def check_c1(r: dict) -> None:
    assert len(r["users_per_node"]) == 3  # the users' keys really sit on the three masters
    for level in r["levels"].values():
        for name in ("redis", "cluster"):
            assert level[name]["tiers"] == {"L2": level[name]["searches"]} and level[name]["searches"] > 0
            _ordered(level[name]["latency_ms"])
        assert level["ratio_cluster_redis"] > 0


def check_m1(r: dict) -> None:
    for name in ("web", "worker"):
        assert r["processes"][name]["peak_rss_mb"] > 0
        assert r["processes"][name]["processes_at_peak"] >= 2
    roles = [p["role"] for p in r["per_process"]]
    assert roles.count("gunicorn master") == roles.count("Celery parent") == 1
    assert "web worker" in roles and "Celery pool child" in roles
    assert all(p["peak_rss_mb"] >= p["rss_now_mb"] > 0 for p in r["per_process"])  # peak: max of both


def check_w2(r: dict) -> None:
    assert list(r["phases"]) == ["all up", "Redis stopped", "L3 stopped"]
    for phase in r["phases"].values():
        for flow in ("A", "B"):
            assert phase[flow]["attempts"] == r["writes_per_flow"]
            assert 0 <= phase[flow]["success_share"] <= 1
    assert r["phases"]["all up"]["A"]["success_share"] == 1.0


def check_h1(r: dict) -> None:
    search, write = r["search"], r["write"]
    assert (
        search["tiers"]["cold:L4"] == search["cold"]["n"]
        and search["tiers"]["l2_hit:L2"] == search["l2_hit"]["n"]
    )
    assert all(write[name]["n"] == write["raw"]["n"] for name in ("A_compat", "A_v1", "B_v1"))
    assert not write["errors"], write["errors"]
    assert r["freshness"]["timeouts"] == 0 and r["freshness"]["write_to_search_ms"]["n"] >= 1
    assert r["bill"]["searches"] > 0 and r["bill"]["b_requests"] > 0


CHECKS = {
    "C1": check_c1,
    "W1": check_w1,
    "W3": check_w3,
    "R1": check_r1,
    "R3": check_r3,
    "R2": check_r2,
    "F1": check_f1,
    "H1": check_h1,
    "S1": check_s1,
    "S2": check_s2,
    "M1": check_m1,
    "W2": check_w2,
}


def test_every_scenario_has_a_check():
    assert set(CHECKS) == HARNESS


def test_the_soak_is_not_in_the_harness():
    assert "K1" in SCENARIOS and "K1" not in HARNESS and "K1" not in SHARED


@pytest.mark.parametrize("scenario_id", SHARED)
def test_scenario_runs_once(scenario_id: str, stack: Stack):
    result = SCENARIOS[scenario_id].run(stack, "tiny")
    json.dumps(result)  # the results file must be able to hold it
    CHECKS[scenario_id](result)
    COLLECTED[scenario_id] = result


def test_w2_runs_on_its_own_stack(options: StackOptions):
    result = SCENARIOS["W2"].run(options, "tiny")
    json.dumps(result)
    check_w2(result)
    COLLECTED["W2"] = result


@pytest.fixture
def collected(request: pytest.FixtureRequest) -> dict[str, dict]:
    """Every harness scenario's result: those the tests above collected, the rest run now.

    So this test proves the report also when run alone (it skipped then, and proved nothing).
    """
    for module in ORDER:
        if module.ID in HARNESS and module.ID not in COLLECTED:
            on = request.getfixturevalue("options" if own_stack(module) else "stack")
            result = module.run(on, "tiny")
            CHECKS[module.ID](result)
            COLLECTED[module.ID] = result
    assert set(COLLECTED) == HARNESS
    return COLLECTED


def test_targets_and_report(tmp_path: Path, collected: dict[str, dict]):
    from bench.charts import CHARTS
    from bench.report import text_table, write_report  # matplotlib: `make install` brings the bench extra

    rows = targets.evaluate(COLLECTED)
    assert {row["id"] for row in rows} == {t.id for t in targets.TARGETS}
    for row in rows:
        ran = row["scenario"] in COLLECTED
        assert (row["passed"] is not None) == ran, row
    results = {"meta": {"size": "tiny"}, "scenarios": COLLECTED, "errors": {}, "targets": rows}
    results_path = tmp_path / "results.json"
    results_path.write_text(json.dumps(results))
    report = write_report(results, results_path, tmp_path / "REPORT.md", tmp_path / "charts")
    text = report.read_text()
    for scenario_id in COLLECTED:
        assert f"## {scenario_id}:" in text
        if scenario_id in CHARTS:  # W3 and S2 are tables only
            assert (tmp_path / "charts" / f"{scenario_id.lower()}.png").stat().st_size > 1000
        assert figures.headline(scenario_id, COLLECTED[scenario_id])
    assert "Targets" in text and "(figures incomplete" not in text
    assert all(sid in text_table(results) for sid in COLLECTED)
