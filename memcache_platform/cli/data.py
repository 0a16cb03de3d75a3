"""Data commands: what each cache tier holds for a user, writes, searches, the user list."""

from __future__ import annotations

from typing import Any

import click

from memcache_platform.cli.app import (
    Connect,
    Say,
    checked_session,
    checked_user,
    json_option,
    main,
    run,
    search_limit,
)


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
    from memcache_platform.cli import render as cli_render
    from memcache_platform.cli.client import user_path

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id = checked_user(user)
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
    from memcache_platform.cli import render as cli_render
    from memcache_platform.cli.client import user_path

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id, session_id = checked_user(user), checked_session(session)
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
    callback=search_limit,
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
    from memcache_platform.cli import render as cli_render
    from memcache_platform.cli.client import user_path

    def work(say: Say, connect: Connect) -> dict[str, Any]:
        user_id, session_id = checked_user(user), checked_session(session)
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
