"""Printing as the scenarios go: one flushed line at a time, so a long run shows progress."""

from __future__ import annotations

import sys


def say(scenario: str, message: str) -> None:
    print(f"[{scenario}] {message}", flush=True, file=sys.stdout)
