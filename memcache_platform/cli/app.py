"""The ``memcache`` group and the plumbing its commands share: options, running, errors, arguments."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

if TYPE_CHECKING:
    from memcache_platform.cli.client import ApiClient

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
            from memcache_platform.cli.client import ApiClient, resolve_target

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


def checked_user(user: str) -> str:
    """``USER`` validated before anything else happens."""
    from memcache_platform.ids import validate_user_id

    return validate_user_id(user)


def checked_session(session: str | None) -> str | None:
    """``--session`` validated, if given."""
    from memcache_platform.ids import validate_session_id

    return validate_session_id(session) if session is not None else None


def search_limit(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """``--limit`` within what the API accepts: 1 to MEMCACHE_SEARCH_MAX_LIMIT."""
    from config.settings import get_settings

    try:
        maximum = get_settings().search_max_limit
    except _invalid_settings():
        return value  # the command reports the malformed setting; the API checks the limit anyway
    if not 1 <= value <= maximum:
        raise click.BadParameter(f"{value} is not in 1..{maximum} (MEMCACHE_SEARCH_MAX_LIMIT)")
    return value
