"""Latency summaries: percentiles in milliseconds, ratios that tolerate empty samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def summary(samples_ms: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, p50, p95, p99, max of latencies in ms (None when there are no samples)."""
    if not samples_ms:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    values = np.asarray(samples_ms, dtype=float)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "n": int(values.size),
        "mean": round(float(values.mean()), 3),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "max": round(float(values.max()), 3),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, rounded; None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def line(name: str, stats: dict[str, float | int | None]) -> str:
    """One printable line: ``name  n=.. p50=.. p95=.. p99=..``."""
    return (
        f"{name:<28} n={stats['n']:<5} p50={fmt_ms(stats['p50']):>10}  "
        f"p95={fmt_ms(stats['p95']):>10}  p99={fmt_ms(stats['p99']):>10}"
    )
