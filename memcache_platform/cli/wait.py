"""Following a task of the platform over its API until it ends: bounded by one deadline in all.

Every poll of ``GET /v1/tasks/{id}`` waits at most until the deadline, and so does the sleep between
polls: ``memcache warm --wait --timeout S`` returns within S seconds whatever the platform does.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from memcache_platform.errors import PlatformError

if TYPE_CHECKING:
    from memcache_platform.cli.client import ApiClient

POLL_S = 0.25
FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})


def _timeout(what: str, timeout: float) -> PlatformError:
    """The error of a wait that ran out of time."""
    return PlatformError(f"{what} not finished after {timeout:g} s", code="timeout")


def _failure(body: dict[str, Any]) -> Exception:
    """The error of a task that ended FAILURE or REVOKED."""
    error = body.get("error") or {}
    detail = f"{error.get('type')}: {error.get('message')}" if error else body["state"]
    return PlatformError(f"task {body['task_id']} ended {body['state']} ({detail})", code="task_failed")


def call_within(client: ApiClient, method: str, path: str, deadline: float, what: str, timeout: float) -> Any:
    """One API call that must answer before ``deadline``; past it, a ``timeout`` error naming ``what``."""
    if time.monotonic() >= deadline:
        raise _timeout(what, timeout)
    try:
        return client.call(method, path, deadline=deadline)
    except PlatformError as exc:
        if exc.code == "platform_timeout" and time.monotonic() >= deadline - 0.1:
            raise _timeout(what, timeout) from None
        raise


def _pause(deadline: float) -> None:
    """Sleep one poll interval, never past ``deadline``."""
    time.sleep(max(0.0, min(POLL_S, deadline - time.monotonic())))


def wait_task(client: ApiClient, task_id: str, deadline: float, timeout: float) -> dict[str, Any]:
    """Poll ``GET /v1/tasks/{id}`` until a final state; a failed task or the deadline raise."""
    what = f"task {task_id}"
    while True:
        body = call_within(client, "GET", f"/v1/tasks/{task_id}", deadline, what, timeout)
        if body["state"] in FINAL_STATES:
            if body["state"] != "SUCCESS":
                raise _failure(body)
            return body
        _pause(deadline)


def sweep_finished(body: dict[str, Any]) -> dict[str, Any] | None:
    """The sweep's final summary if it has finished, else None; a failed sweep raises."""
    progress = body.get("progress") or {}
    if body["state"] in FINAL_STATES - {"SUCCESS"}:
        raise _failure(body)
    if "finished_at" in progress:
        return progress
    return None


def wait_sweep(
    client: ApiClient, task_id: str, deadline: float, timeout: float, *, bar: bool
) -> dict[str, Any]:
    """Poll a sweep's progress (with a progress bar on stderr) until it has finished; its summary."""
    what = f"sweep {task_id}"
    with contextlib.ExitStack() as stack:
        progressbar = None
        shown = 0
        while True:
            body = call_within(client, "GET", f"/v1/tasks/{task_id}", deadline, what, timeout)
            progress = body.get("progress") or {}
            total = progress.get("total")
            if bar and progressbar is None and isinstance(total, int) and total > 0:
                progressbar = stack.enter_context(
                    click.progressbar(length=total, label=what, file=sys.stderr, show_pos=True)
                )
            if progressbar is not None:
                # Skipped users are settled when the sweep is planned; the rest as chunks finish.
                position = sum(int(progress.get(k) or 0) for k in ("skipped", "done", "failed"))
                if position > shown:
                    progressbar.update(position - shown)
                    shown = position
            summary = sweep_finished(body)
            if summary is not None:
                return summary
            _pause(deadline)
