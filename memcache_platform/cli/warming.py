"""Warming commands: a forced rebuild of one user, a sweep of every user; optionally followed."""

from __future__ import annotations

import time
from typing import Any

import click

from memcache_platform.cli.app import (
    Connect,
    Say,
    checked_user,
    json_option,
    main,
    run,
    timeout_option,
)


@main.command()
@click.argument("user")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Wait for the rebuild to finish.")
@timeout_option(120.0)
@json_option
def warm(user: str, wait: bool, timeout: float, as_json: bool) -> None:
    """Force a rebuild of USER's cache tiers; prints the task id.

    Calls POST /v1/users/USER/cache/warm, and with --wait polls GET /v1/tasks/ID.

    \b
    Examples:
      memcache warm alice
      memcache warm alice --wait --timeout 30
      memcache warm alice --wait --json | jq .result.outcome
    """
    from memcache_platform.cli import render as cli_render
    from memcache_platform.cli.client import user_path
    from memcache_platform.cli.wait import call_within, wait_task

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id = checked_user(user)
        deadline = time.monotonic() + timeout
        client = connect()
        path = user_path(user_id, "/cache/warm")
        if wait:
            accepted = call_within(client, "POST", path, deadline, f"rebuild of {user_id}", timeout)
        else:
            accepted = client.call("POST", path)
        task_id = accepted["task_id"]
        say(f"task {task_id}: forced rebuild of {user_id} queued")
        if not wait:
            return {"task_id": task_id, "user_id": user_id, "state": "PENDING"}
        return wait_task(client, task_id, deadline, timeout) | {"user_id": user_id}

    def render(data: dict[str, Any]) -> str:
        result = data.get("result")
        return cli_render.rebuild(result) if isinstance(result, dict) else ""

    run(as_json, work, render)


@main.command("warm-all")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Follow the sweep to its end.")
@timeout_option(600.0)
@json_option
def warm_all(wait: bool, timeout: float, as_json: bool) -> None:
    """Sweep every user now (dirty first, then aged builds).

    Needs an admin key. Calls POST /v1/cache/warm-all, and with --wait follows
    GET /v1/tasks/ID (progress bar on stderr).

    \b
    Examples:
      memcache warm-all
      memcache warm-all --wait
      memcache warm-all --wait --json | jq .summary.rebuilt
    """
    from memcache_platform.cli import render as cli_render
    from memcache_platform.cli.wait import call_within, wait_sweep

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        client = connect()
        if wait:
            accepted = call_within(client, "POST", "/v1/cache/warm-all", deadline, "sweep", timeout)
        else:
            accepted = client.call("POST", "/v1/cache/warm-all")
        task_id = accepted["task_id"]
        say(f"task {task_id}: sweep queued")
        if not wait:
            return {"task_id": task_id, "sweep_id": task_id, "state": "PENDING"}
        summary = wait_sweep(client, task_id, deadline, timeout, bar=not as_json)
        return {"task_id": task_id, "sweep_id": task_id, "state": "FINISHED", "summary": summary}

    def render(data: dict[str, Any]) -> str:
        return cli_render.sweep(data["summary"]) if "summary" in data else ""

    run(as_json, work, render)
