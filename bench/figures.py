"""The registry of what each scenario's results say: headline rows and Markdown detail tables.

Each scenario's own wording lives in ``bench/reports/<id>.py`` (H1's in ``bench/h1_report.py``, C1's in
its scenario module); this module only maps scenario ids to them and guards against incomplete figures.
"""

from __future__ import annotations

from collections.abc import Callable

from bench import h1_report
from bench.reports import f1, k1, m1, r1, r2, r3, s1, s2, w1, w2, w3
from bench.reports.common import Rows
from bench.scenarios import c1_cluster

HEADLINES: dict[str, Callable[[dict], Rows]] = {
    "W1": w1.headline,
    "W3": w3.headline,
    "W2": w2.headline,
    "R1": r1.headline,
    "R2": r2.headline,
    "R3": r3.headline,
    "F1": f1.headline,
    "H1": h1_report.headline,
    "S1": s1.headline,
    "S2": s2.headline,
    "C1": c1_cluster.headline,
    "M1": m1.headline,
    "K1": k1.headline,
}
DETAILS: dict[str, Callable[[dict], list[str]]] = {
    "W1": w1.details,
    "W3": w3.details,
    "W2": w2.details,
    "R1": r1.details,
    "R2": r2.details,
    "R3": r3.details,
    "F1": f1.details,
    "H1": h1_report.details,
    "S1": s1.details,
    "S2": s2.details,
    "C1": c1_cluster.details,
    "M1": m1.details,
    "K1": k1.details,
}


def headline(scenario_id: str, figures: dict) -> Rows:
    try:
        return HEADLINES[scenario_id](figures)
    except (KeyError, TypeError) as exc:
        return [("(figures incomplete)", f"{type(exc).__name__}: {exc}")]


def details(scenario_id: str, figures: dict) -> list[str]:
    try:
        return DETAILS[scenario_id](figures)
    except (KeyError, TypeError) as exc:
        return [f"(figures incomplete: {type(exc).__name__}: {exc})", ""]
