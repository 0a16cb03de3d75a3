"""The ``memcache`` command: data commands are clients of the running platform's HTTP API.

``add``, ``search``, ``status``, ``warm``, ``warm-all`` and ``users`` call the platform that
``cli_client`` finds and name it on stderr; they never open Redis, PostgreSQL, Celery or Mem0 (only
``dev`` and ``db`` do). With ``--json`` stdout is one JSON document; any ``PlatformError`` (the API's
error, or no platform there) ends with ``Error: <message> (<code>)`` and exit status 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

if TYPE_CHECKING:
    from memcache_platform.cli_client import ApiClient

Say = Callable[[str], None]
Connect = Callable[[], "ApiClient"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="memcache-platform", prog_name="memcache", message="%(prog)s %(version)s")
@click.option("-q", "--quiet", is_flag=True, help="Do not print which platform a command calls (stderr).")
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """memcache_platform: cache tiers in front of Mem0.

    Data commands call the HTTP API of the platform that `make run` started: MEMCACHE_API_URL
    (default http://127.0.0.1:8000) with MEMCACHE_API_KEY (default: var/dev-api-key).

    \b
    Examples:
      memcache add alice "My favourite food is pho"
      memcache search alice "what do I eat" --limit 3
      MEMCACHE_API_URL=http://10.0.0.5:8000 memcache status alice --json
    """
    ctx.obj = {"quiet": quiet}


# --- plumbing ------------------------------------------------------------------------------------


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag shared by every data command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text."
    )(fn)


def timeout_option(default: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--timeout S``: the command's whole time budget with ``--wait``."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=default,
        show_default=True,
        metavar="S",
        help="With --wait: give up after S seconds in all, the API calls included (exit status 1).",
    )


def run(as_json: bool, work: Callable[[Say, Connect], Any], render: Callable[[Any], str]) -> None:
    """Run ``work`` and print its data as JSON or rendered; a ``PlatformError`` exits with status 1.

    ``work`` gets ``say`` (a line on stdout at once in text mode, nothing in JSON mode) and
    ``connect`` (the API client, found on first use and announced on stderr): arguments are checked
    before any platform is looked for.
    """
    from memcache_platform.errors import PlatformError

    out: TextIO = sys.stdout
    quiet = bool((click.get_current_context().find_root().obj or {}).get("quiet"))
    client: list[ApiClient] = []

    def say(text: str) -> None:
        if not as_json:
            click.echo(text, file=out)

    def connect() -> ApiClient:
        if not client:
            from memcache_platform.cli_client import ApiClient, resolve_target

            target = resolve_target()
            if not quiet:
                click.echo(target.describe(), err=True)
            client.append(ApiClient(target))
        return client[0]

    try:
        # In JSON mode a stray print() of some library must not corrupt the one document on stdout.
        with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
            data = work(say, connect)
    except PlatformError as exc:
        fail(as_json, exc.message, exc.code)
    except _invalid_settings() as exc:  # a malformed MEMCACHE_* variable: say which, no traceback
        fail(as_json, f"invalid MEMCACHE_* setting: {exc}", "invalid_settings")
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str), file=out)
    else:
        text = render(data)
        if text:
            click.echo(text, file=out)


def fail(as_json: bool, message: str, code: str, status: int = 1) -> NoReturn:
    """``Error: <message> (<code>)`` on stderr, or the error document on stdout; exit ``status``."""
    if as_json:
        click.echo(json.dumps({"error": {"code": code, "message": message}}))
    else:
        click.echo(f"Error: {message} ({code})", err=True)
    sys.exit(status)


def _invalid_settings() -> type[Exception]:
    """pydantic's ``ValidationError``, raised by the settings on a malformed variable."""
    from pydantic import ValidationError

    return ValidationError


def _user(user: str) -> str:
    """``USER`` validated before anything else happens."""
    from memcache_platform.ids import validate_user_id

    return validate_user_id(user)


def _session(session: str | None) -> str | None:
    """``--session`` validated, if given."""
    from memcache_platform.ids import validate_session_id

    return validate_session_id(session) if session is not None else None


def _search_limit(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """``--limit`` within what the API accepts: 1 to MEMCACHE_SEARCH_MAX_LIMIT."""
    from config.settings import get_settings

    try:
        maximum = get_settings().search_max_limit
    except _invalid_settings():
        return value  # the command reports the malformed setting; the API checks the limit anyway
    if not 1 <= value <= maximum:
        raise click.BadParameter(f"{value} is not in 1..{maximum} (MEMCACHE_SEARCH_MAX_LIMIT)")
    return value


# --- data commands: clients of the HTTP API --------------------------------------------------------


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
    from memcache_platform import cli_render
    from memcache_platform.cli_client import user_path
    from memcache_platform.cli_wait import call_within, wait_task

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id = _user(user)
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
    from memcache_platform import cli_render
    from memcache_platform.cli_wait import call_within, wait_sweep

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


@main.command()
@click.argument("user")
@json_option
def status(user: str, as_json: bool) -> None:
    """Show what each cache tier holds for USER.

    Calls GET /v1/users/USER/cache.

    \b
    Examples:
      memcache status alice
      memcache status alice --json | jq .lag_s
    """
    from memcache_platform import cli_render
    from memcache_platform.cli_client import user_path

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id = _user(user)
        return connect().call("GET", user_path(user_id, "/cache"))

    run(as_json, work, cli_render.status)


@main.command()
@click.argument("user")
@click.argument("text")
@click.option("--session", metavar="ID", help="Session (Mem0 run id) the memories belong to.")
@json_option
def add(user: str, text: str, session: str | None, as_json: bool) -> None:
    """Store the facts of TEXT (a user message) for USER.

    Calls POST /v1/users/USER/memories; the rebuild of the caches is handed off.

    \b
    Examples:
      memcache add alice "My favourite food is pho and I am good at Python"
      memcache add alice "I love ramen" --session chat-42 --json
    """
    from memcache_platform import cli_render
    from memcache_platform.cli_client import user_path

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id, session_id = _user(user), _session(session)
        body: dict[str, Any] = {"messages": [{"role": "user", "content": text}]}
        if session_id is not None:
            body["session_id"] = session_id
        return {"user_id": user_id} | connect().call("POST", user_path(user_id, "/memories"), body=body)

    run(as_json, work, cli_render.written)


@main.command()
@click.argument("user")
@click.argument("query")
@click.option(
    "--limit",
    type=int,
    default=10,
    show_default=True,
    callback=_search_limit,
    help="Most results: 1 to MEMCACHE_SEARCH_MAX_LIMIT (50), as the API accepts.",
)
@click.option("--session", metavar="ID", help="Only memories of this session (Mem0 run id).")
@json_option
def search(user: str, query: str, limit: int, session: str | None, as_json: bool) -> None:
    """Search USER's memories; prints the answering tier and results.

    Calls GET /v1/users/USER/search (L2 when current, else L1 + L4).

    \b
    Examples:
      memcache search alice "what do I eat"
      memcache search alice food --limit 3 --session chat-42
      memcache search alice food --json | jq -r .tier
    """
    from memcache_platform import cli_render
    from memcache_platform.cli_client import user_path

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id, session_id = _user(user), _session(session)
        params: dict[str, Any] = {"q": query, "limit": limit}
        if session_id is not None:
            params["session_id"] = session_id
        return connect().call("GET", user_path(user_id, "/search"), params=params)

    run(as_json, work, cli_render.search)


@main.command()
@json_option
def users(as_json: bool) -> None:
    """List every user with memories in Mem0, one per line.

    Calls GET /v1/entities/ (a key limited to some users sees only those).

    \b
    Examples:
      memcache users
      memcache users --json | jq length
    """

    def work(say: Say, connect: Connect) -> list[str]:
        body = connect().call("GET", "/v1/entities/")
        return [entity["name"] for entity in body["results"] if entity.get("type") == "user"]

    run(as_json, work, "\n".join)


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "mem0"]),
    default="auto",
    show_default=True,
    help="jsonl: one {user_id, messages|memory, metadata?, created_at?} per line; mem0: a Mem0 export "
    "(a JSON list of memories, or one under 'memories' or 'results'); auto tells them apart.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 32), default=4, show_default=True, help="Users at once."
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=None,
    help="Records per request (default MEMCACHE_IMPORT_MAX_BATCH, 100); batches also stay under "
    "MEMCACHE_MAX_BODY_BYTES.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the run records what it imported (default FILE.import-state); a rerun skips those.",
)
@click.option("--dry-run", is_flag=True, help="Read and check the file, count per user; send nothing.")
@json_option
def import_(
    file: Path,
    fmt: str,
    concurrency: int,
    batch_size: int | None,
    state_path: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import the memories of FILE, user by user, one hand-off per batch.

    Calls POST /v1/users/USER/memories/batch with each user's records in order (batches of one
    user never overlap; users run in parallel). Resumable: the records written or skipped are kept
    in the state file, so after Ctrl-C the same command goes on where it stopped.

    \b
    Exit status: 0 every record is in (written, or skipped as a duplicate or stating nothing);
    1 the platform could not be used (unreachable, bad key); 2 the file is missing or malformed
    (the line or memory is named) or bad options; 3 done, but some records failed (listed);
    130 interrupted (Ctrl-C): run the same command again to resume.

    \b
    Examples:
      memcache import chats.jsonl --dry-run
      memcache import chats.jsonl --concurrency 8
      memcache import mem0-export.json --format mem0 --json | jq .written
    """
    from memcache_platform import cli_render
    from memcache_platform.cli_import import Importer, run_import
    from memcache_platform.import_file import ImportFileError, ImportState, read_records

    started = time.monotonic()
    state_path = state_path or file.with_name(file.name + ".import-state")
    try:
        fmt, records = read_records(file, fmt)
        state = ImportState(state_path)
    except ImportFileError as exc:
        fail(as_json, exc.message, exc.code, status=2)
    by_user: dict[str, list[Any]] = {}
    resumed: dict[str, int] = {}
    for record in records:
        if record.key in state.done:
            resumed[record.user_id] = resumed.get(record.user_id, 0) + 1
        else:
            by_user.setdefault(record.user_id, []).append(record)
    outcome: dict[str, Any] = {}

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        from config.settings import get_settings

        conf = get_settings()
        summary = {"file": str(file), "format": fmt, "state": str(state_path), "records": len(records)}
        if dry_run:
            users = sorted(set(by_user) | set(resumed))
            counts = {u: {"to_send": len(by_user.get(u, [])), "resumed": resumed.get(u, 0)} for u in users}
            return summary | {"dry_run": True, "users": counts}
        importer = Importer(
            connect(), state, batch_size=batch_size or conf.import_max_batch, max_bytes=conf.max_body_bytes
        )
        for user, n in resumed.items():
            importer.tally.add(user, "resumed", n)
        finished = run_import(importer, by_user, concurrency=concurrency, bar=not as_json)
        if importer.fatal is not None:
            raise importer.fatal
        tally = importer.tally
        outcome["status"] = 130 if not finished else 3 if tally.total("failed") else 0
        return summary | {
            "interrupted": not finished,
            "users": dict(sorted(tally.users.items())),
            **{k: tally.total(k) for k in ("written", "skipped", "failed", "resumed")},
            "batches": tally.batches,
            "handoffs": tally.handoffs,
            "duration_s": round(time.monotonic() - started, 2),
            "errors": tally.errors,
        }

    run(as_json, work, cli_render.imported)
    if outcome.get("status"):
        sys.exit(outcome["status"])


# --- local operation: these touch servers directly ---------------------------------------------------


@main.group()
def dev() -> None:
    """Run the platform locally on embedded servers."""


@dev.command("run")
def dev_run() -> None:
    """Start Redis and PostgreSQL under ./var/ (unless URLs are set), migrate, run the Procfile.

    \b
    Examples:
      memcache dev run                      # what `make run` does
    """
    from memcache_platform.dev.run import run_platform

    sys.exit(run_platform())


@main.group()
def db() -> None:
    """L3 database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply L3's Alembic migrations to MEMCACHE_DATABASE_URL (printed first, password masked).

    \b
    Examples:
      memcache db upgrade
    """
    import os

    from config.logging import redact
    from config.settings import Settings, get_settings
    from memcache_platform.db.migrate import upgrade

    settings = get_settings()
    if "MEMCACHE_DATABASE_URL" in os.environ:
        source = "MEMCACHE_DATABASE_URL"
    elif settings.database_url == Settings.model_fields["database_url"].default:
        source = "the default: MEMCACHE_DATABASE_URL is not set"
    else:
        source = "MEMCACHE_DATABASE_URL from .env or var/embedded.env"
    click.echo(f"using {redact(settings.database_url)} ({source})", err=True)
    upgrade(settings.sqlalchemy_url, revision)
    click.echo(f"L3 schema at {revision}")


if __name__ == "__main__":
    main(prog_name="memcache")
