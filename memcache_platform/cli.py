"""The ``memcache`` command.

Every operational command takes ``--json``: then stdout carries exactly one JSON document (the
result, or ``{"error": {"code", "message"}}``) and anything else a library prints goes to stderr.
A ``PlatformError`` ends the command with ``Error: <message> (<code>)`` and exit status 1.
Heavy modules (the platform, Celery, Mem0) are imported inside the commands: ``--help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:
    from memcache_platform.services.warming import WarmingService
    from memcache_platform.wiring import Platform

POLL_S = 0.25
FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})
Say = Callable[[str], None]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """memcache_platform: cache tiers in front of Mem0."""


# --- plumbing ------------------------------------------------------------------------------------


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag shared by every operational command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text."
    )(fn)


def timeout_option(default: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--timeout S``: how long ``--wait`` waits before giving up."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=default,
        show_default=True,
        metavar="S",
        help="Seconds to wait with --wait before giving up (exit status 1).",
    )


def _platform_error(message: str, code: str) -> Exception:
    """A ``PlatformError`` raised by the CLI itself (waiting timed out, a task failed)."""
    from memcache_platform.errors import PlatformError

    return PlatformError(message, code=code)


def run(as_json: bool, work: Callable[[Say], Any], render: Callable[[Any], str]) -> None:
    """Run ``work`` and print its data as JSON or rendered; a ``PlatformError`` exits with status 1.

    ``work`` gets ``say``, which prints a line at once in text mode and nothing in JSON mode.
    """
    from memcache_platform.errors import PlatformError

    out: TextIO = sys.stdout

    def say(text: str) -> None:
        if not as_json:
            click.echo(text, file=out)

    try:
        # In JSON mode a stray print() of some library must not corrupt the one document on stdout.
        with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
            data = work(say)
    except PlatformError as exc:
        if as_json:
            click.echo(json.dumps({"error": {"code": exc.code, "message": exc.message}}), file=out)
        else:
            click.echo(f"Error: {exc.message} ({exc.code})", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str), file=out)
    else:
        text = render(data)
        if text:
            click.echo(text, file=out)


def _user(user: str) -> str:
    """``USER`` validated before anything else happens."""
    from memcache_platform.ids import validate_user_id

    return validate_user_id(user)


def _session(session: str | None) -> str | None:
    """``--session`` validated, if given."""
    from memcache_platform.ids import validate_session_id

    return validate_session_id(session) if session is not None else None


def _platform() -> Platform:
    """The process's platform (imported here: ``memcache --help`` must not pay for it)."""
    from memcache_platform.wiring import get_platform

    return get_platform()


def _failure(body: dict[str, Any]) -> Exception:
    """The error of a task that ended FAILURE or REVOKED."""
    error = body.get("error") or {}
    detail = f"{error.get('type')}: {error.get('message')}" if error else body["state"]
    return _platform_error(f"task {body['task_id']} ended {body['state']} ({detail})", "task_failed")


def wait_task(warming: WarmingService, task_id: str, timeout: float) -> dict[str, Any]:
    """Poll a task until it reaches a final state; a failed task or the timeout raise."""
    deadline = time.monotonic() + timeout
    while True:
        body = warming.task(task_id)
        if body["state"] in FINAL_STATES:
            if body["state"] != "SUCCESS":
                raise _failure(body)
            return body
        if time.monotonic() >= deadline:
            raise _platform_error(f"task {task_id} not finished after {timeout:g} s", "timeout")
        time.sleep(POLL_S)


def sweep_finished(body: dict[str, Any]) -> dict[str, Any] | None:
    """The sweep's final summary if it has finished, else None; a failed sweep raises."""
    progress = body.get("progress") or {}
    if body["state"] in FINAL_STATES - {"SUCCESS"}:
        raise _failure(body)
    if "finished_at" in progress:
        return progress
    return None


def wait_sweep(warming: WarmingService, task_id: str, timeout: float, *, bar: bool) -> dict[str, Any]:
    """Poll a sweep's progress (with a progress bar on stderr) until it has finished; its summary."""
    deadline = time.monotonic() + timeout
    with contextlib.ExitStack() as stack:
        progressbar = None
        shown = 0
        while True:
            body = warming.task(task_id)
            progress = body.get("progress") or {}
            total = progress.get("total")
            if bar and progressbar is None and isinstance(total, int) and total > 0:
                progressbar = stack.enter_context(
                    click.progressbar(length=total, label=f"sweep {task_id}", file=sys.stderr, show_pos=True)
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
            if time.monotonic() >= deadline:
                raise _platform_error(f"sweep {task_id} not finished after {timeout:g} s", "timeout")
            time.sleep(POLL_S)


# --- operational commands ------------------------------------------------------------------------


@main.command()
@click.argument("user")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Wait for the rebuild to finish.")
@timeout_option(120.0)
@json_option
def warm(user: str, wait: bool, timeout: float, as_json: bool) -> None:
    """Force a rebuild of USER's cache tiers; prints the task id."""
    from memcache_platform import cli_render

    def work(say: Say) -> dict[str, Any]:
        user_id = _user(user)
        warming = _platform().warming
        task_id = warming.warm_user(user_id)
        say(f"task {task_id}: forced rebuild of {user_id} queued")
        if not wait:
            return {"task_id": task_id, "user_id": user_id, "state": "PENDING"}
        return wait_task(warming, task_id, timeout) | {"user_id": user_id}

    def render(data: dict[str, Any]) -> str:
        result = data.get("result")
        return cli_render.rebuild(result) if isinstance(result, dict) else ""

    run(as_json, work, render)


@main.command("warm-all")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Follow the sweep to its end.")
@timeout_option(600.0)
@json_option
def warm_all(wait: bool, timeout: float, as_json: bool) -> None:
    """Sweep every user now (dirty first, then aged builds)."""
    from memcache_platform import cli_render

    def work(say: Say) -> dict[str, Any]:
        warming = _platform().warming
        task_id = warming.warm_all()
        say(f"task {task_id}: sweep queued")
        if not wait:
            return {"task_id": task_id, "sweep_id": task_id, "state": "PENDING"}
        summary = wait_sweep(warming, task_id, timeout, bar=not as_json)
        return {"task_id": task_id, "sweep_id": task_id, "state": "FINISHED", "summary": summary}

    def render(data: dict[str, Any]) -> str:
        return cli_render.sweep(data["summary"]) if "summary" in data else ""

    run(as_json, work, render)


@main.command()
@click.argument("user")
@json_option
def status(user: str, as_json: bool) -> None:
    """Show what each cache tier holds for USER."""
    from memcache_platform import cli_render

    def work(say: Say) -> dict[str, Any]:
        user_id = _user(user)
        return _platform().cache_status.status(user_id)

    run(as_json, work, cli_render.status)


@main.command()
@click.argument("user")
@click.argument("text")
@click.option("--session", metavar="ID", help="Session (Mem0 run id) the memories belong to.")
@json_option
def add(user: str, text: str, session: str | None, as_json: bool) -> None:
    """Store the facts of TEXT (a user message) for USER in Mem0."""
    from dataclasses import asdict

    from memcache_platform import cli_render

    def work(say: Say) -> dict[str, Any]:
        user_id, session_id = _user(user), _session(session)
        written = _platform().extraction.extract_facts(
            user_id, [{"role": "user", "content": text}], session_id=session_id
        )
        handoff = written.handoff
        return {
            "user_id": user_id,
            "memories": [asdict(m) for m in written.memories],
            "handoff": None
            if handoff is None
            else {"watermark": handoff.watermark, "outcome": handoff.handoff},
        }

    def render(data: dict[str, Any]) -> str:
        if not data["memories"]:
            return "No facts found in the text: nothing stored."
        handoff = data["handoff"]
        return (
            f"{cli_render.memories(data['memories'])}\n\n"
            f"hand-off: {handoff['outcome']} (watermark {cli_render.cell(handoff['watermark'])})"
        )

    run(as_json, work, render)


@main.command()
@click.argument("user")
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Most results.")
@click.option("--session", metavar="ID", help="Only memories of this session (Mem0 run id).")
@json_option
def search(user: str, query: str, limit: int, session: str | None, as_json: bool) -> None:
    """Search USER's memories; prints the answering tier and results."""
    from dataclasses import asdict

    from memcache_platform import cli_render

    def work(say: Say) -> dict[str, Any]:
        user_id, session_id = _user(user), _session(session)
        answer = _platform().search.search(user_id, query, limit=limit, session_id=session_id)
        return {"user_id": user_id, "query": query} | asdict(answer)

    def render(data: dict[str, Any]) -> str:
        tier = data["tier"] + (" (degraded: Redis unavailable)" if data["degraded"] else "")
        body = cli_render.results(data["results"]) if data["results"] else "no results"
        return f"tier: {tier}\n{body}"

    run(as_json, work, render)


@main.command()
@click.option(
    "--reconcile/--no-reconcile",
    default=True,
    show_default=True,
    help="Also list users found only in L4 (Mem0), not just in Redis and L3.",
)
@json_option
def users(reconcile: bool, as_json: bool) -> None:
    """List every known user id, one per line."""

    def work(say: Say) -> list[str]:
        return _platform().registry.all_users(reconcile=reconcile)

    run(as_json, work, "\n".join)


# --- local operation -----------------------------------------------------------------------------


@main.group()
def dev() -> None:
    """Run the platform locally on embedded servers."""


@dev.command("run")
def dev_run() -> None:
    """Start Redis and PostgreSQL under ./var/ (unless URLs are set), migrate, run the Procfile."""
    from memcache_platform.dev.run import run_platform

    sys.exit(run_platform())


@main.group()
def db() -> None:
    """L3 database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply L3's Alembic migrations to MEMCACHE_DATABASE_URL."""
    from config.settings import get_settings
    from memcache_platform.db.migrate import upgrade

    upgrade(get_settings().sqlalchemy_url, revision)
    click.echo(f"L3 schema at {revision}")


if __name__ == "__main__":
    main(prog_name="memcache")
