"""Runs the chosen scenarios against the stack and writes ``<results-dir>/<UTC date-time>.json``."""

from __future__ import annotations

import json
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine, targets
from bench.output import say
from bench.scenarios import SCENARIOS, own_stack
from bench.stack import Stack, StackOptions


def run_scenarios(ids: list[str], size: str, options: StackOptions) -> dict[str, Any]:
    """Results of every scenario in ``ids`` (errors recorded, the others still run); stack always stopped."""
    started = time.monotonic()
    results: dict[str, Any] = {"meta": machine.info() | {"size": size, "scenarios": ids}}
    results["scenarios"], results["errors"], results["durations_s"] = {}, {}, {}
    shared = [i for i in ids if not own_stack(SCENARIOS[i])]
    if shared:
        say("stack", "starting Redis, PostgreSQL, gunicorn and the Celery worker ...")
        with Stack(options) as stack:
            results["meta"]["stack"] = stack.describe()
            say("stack", f"ready in {stack.started_s} s: {stack.describe()}")
            for scenario_id in shared:
                _run_one(scenario_id, stack, size, results)
    for scenario_id in ids:
        if own_stack(SCENARIOS[scenario_id]):
            _run_one(scenario_id, options, size, results)
    results["meta"]["duration_s"] = round(time.monotonic() - started, 1)
    results["targets"] = targets.evaluate(results["scenarios"])
    return results


def _run_one(scenario_id: str, stack: Any, size: str, results: dict[str, Any]) -> None:
    module = SCENARIOS[scenario_id]
    say(scenario_id, f"{module.TITLE} ({size})")
    started = time.monotonic()
    try:
        results["scenarios"][scenario_id] = module.run(stack, size)
    except Exception as exc:  # noqa: BLE001 - one failing scenario must not lose the others' figures
        results["errors"][scenario_id] = "".join(traceback.format_exception(exc))[-4000:]
        say(scenario_id, f"FAILED: {type(exc).__name__}: {exc}")
    results["durations_s"][scenario_id] = round(time.monotonic() - started, 1)
    say(scenario_id, f"done in {results['durations_s'][scenario_id]} s")


def write_results(results: dict[str, Any], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    path = results_dir / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    return path
