"""``memcache import``: sends a file's records to the batch endpoint, per user, resumably.

Records are grouped by user; each user's records go in order, in batches of at most ``batch_size``
records and ``max_bytes`` of JSON, to ``POST /v1/users/{id}/memories/batch`` (one hand-off per
batch). Users go in parallel on ``concurrency`` threads, never two batches of one user at once (two
concurrent writes of a user could both add what one should replace). After each answer the
records written or skipped are appended to the state file; a record already in it is not sent.
A 429 or a 503 is retried with backoff; a batch that still fails counts its records as failed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from memcache_platform.errors import PlatformError
from memcache_platform.import_file import ImportState, Record

if TYPE_CHECKING:
    from memcache_platform.cli.client import ApiClient

RETRIED = frozenset({"rate_limited", "memory_store_unavailable", "memory_store_timeout", "platform_timeout"})
FATAL = frozenset({"platform_unreachable", "not_a_platform", "unauthorized", "no_api_key"})
BACKOFF_S = (1, 2, 4, 8, 16)


@dataclass
class Tally:
    """What the run did so far, per user and in all (updated by every thread, under a lock)."""

    users: dict[str, dict[str, int]] = field(default_factory=dict)
    batches: int = 0
    handoffs: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, user_id: str, status: str, n: int = 1) -> None:
        with self.lock:
            counts = self.users.setdefault(
                user_id, {"written": 0, "skipped": 0, "failed": 0, "resumed": 0, "batches": 0}
            )
            counts[status] += n

    def total(self, status: str) -> int:
        return sum(c[status] for c in self.users.values())


def batches(records: list[Record], batch_size: int, max_bytes: int) -> list[list[Record]]:
    """``records`` (one user's, in order) cut into batches that fit the count and the body size."""
    out: list[list[Record]] = [[]]
    size = len('{"records":[]}')
    for record in records:
        length = len(json.dumps(record.body, ensure_ascii=False).encode()) + 1
        if out[-1] and (len(out[-1]) >= batch_size or size + length > max_bytes):
            out.append([])
            size = len('{"records":[]}')
        out[-1].append(record)
        size += length
    return [b for b in out if b]


class Importer:
    """Sends the batches of every user and keeps the state and the tally."""

    def __init__(
        self,
        client: ApiClient,
        state: ImportState,
        *,
        batch_size: int,
        max_bytes: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.state = client, state
        self.batch_size, self.max_bytes = batch_size, max_bytes
        self.sleep = sleep
        self.tally = Tally()
        self.sent = 0  # records answered so far (the progress bar's position)
        self.stop = threading.Event()
        self.fatal: PlatformError | None = None
        self._state_lock = threading.Lock()

    def user(self, user_id: str, records: list[Record]) -> None:
        """Import one user's records, batch after batch, until done or told to stop."""
        from memcache_platform.cli.client import user_path

        for batch in batches(records, self.batch_size, self.max_bytes):
            if self.stop.is_set():
                return
            try:
                answer = self._send(user_path(user_id, "/memories/batch"), batch)
            except PlatformError as exc:
                if exc.code in FATAL:
                    self.fatal = exc
                    self.stop.set()
                    return
                self.tally.add(user_id, "failed", len(batch))
                with self.tally.lock:
                    self.tally.errors.append(
                        f"{user_id}: {len(batch)} records failed: {exc.message} ({exc.code})"
                    )
                    self.sent += len(batch)
                continue
            self._settle(user_id, batch, answer)

    def _send(self, path: str, batch: list[Record]) -> dict[str, Any]:
        """One batch, retried on a 429 or 503 with backoff."""
        body = {"records": [r.body for r in batch]}
        for wait in (*BACKOFF_S, None):
            try:
                return self.client.call("POST", path, body=body)
            except PlatformError as exc:
                if exc.code not in RETRIED or wait is None or self.stop.is_set():
                    raise
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _settle(self, user_id: str, batch: list[Record], answer: dict[str, Any]) -> None:
        """Record the batch's outcome: state for what is in, tally and errors for all."""
        done: dict[str, str] = {}
        for result in answer["results"]:
            record = batch[result["index"]]
            status = "failed" if result["status"] == "error" else result["status"]
            self.tally.add(user_id, status)
            if status == "failed":
                error = result.get("error") or {}
                with self.tally.lock:
                    self.tally.errors.append(
                        f"{user_id} {record.where}: {error.get('message')} ({error.get('code')})"
                    )
            else:
                done[record.key] = status
        with self._state_lock:
            self.state.record(list(done), done)
        self.tally.add(user_id, "batches")
        with self.tally.lock:
            self.tally.batches += 1
            self.tally.handoffs += answer["cache"].get("handoff") not in (None, "skipped")
            self.sent += len(batch)


def run_import(
    importer: Importer,
    by_user: dict[str, list[Record]],
    *,
    concurrency: int,
    bar: bool,
) -> bool:
    """Import every user on ``concurrency`` threads; False if interrupted (Ctrl-C) before the end."""
    total = sum(len(r) for r in by_user.values())
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="import")
    futures = [pool.submit(importer.user, user, records) for user, records in by_user.items()]
    progress = click.progressbar(length=total, label="importing", file=sys.stderr, show_pos=True)
    shown = 0
    try:
        with progress if bar else contextlib.nullcontext():
            while True:
                finished, pending = concurrent.futures.wait(futures, timeout=0.2)
                if bar and importer.sent > shown:
                    progress.update(importer.sent - shown)
                    shown = importer.sent
                if not pending:
                    break
        for future in futures:
            future.result()  # a bug in a thread is not silent
        return True
    except KeyboardInterrupt:
        # Batches in flight finish and are recorded; users not started are not.
        importer.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        return False
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
