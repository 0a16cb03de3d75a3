"""``memcache import FILE``: the command; the sending itself is in ``cli/importer.py``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from memcache_platform.cli.app import (
    Connect,
    Say,
    fail,
    json_option,
    main,
    run,
)


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
    from memcache_platform.cli import render as cli_render
    from memcache_platform.cli.importer import Importer, run_import
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
