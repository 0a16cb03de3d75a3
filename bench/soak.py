"""K1's client side: a bounded mixed load on a ``ProcessTree``, and the probe that times convergence.

``Load`` runs client threads that each send writes, searches and favourites reads for random users
at a fixed pace (never faster, so the 2-core machine is not saturated). ``Convergence`` reads
favourites after each fault until every write accepted before the fault's end is in L3.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:  # imported by the scenario at run time, so bench/ imports without it
    from memcache_platform.dev.process_tree import ProcessTree

KINDS = ("write", "search", "favorites")


@dataclass(frozen=True)
class Answer:
    """One request of the load: what, when (monotonic), how long, and the status (0: no answer)."""

    kind: str
    user: str
    sent: float
    seconds: float
    status: int
    code: str | None


def _code(response: requests.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        return response.json().get("error", {}).get("code")
    except ValueError:
        return "not-json"


@dataclass
class Load:
    """``threads`` clients over ``users``, ``rps`` requests per second in all, seeded."""

    tree: ProcessTree
    users: list[str]
    threads: int
    rps: float
    weights: tuple[float, float, float]  # write, search, favorites
    seed: int
    answers: list[Answer] = field(default_factory=list)
    accepted: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _items: itertools.count = field(default_factory=itertools.count)

    def start(self) -> Load:
        self._workers = [
            threading.Thread(target=self._run, args=(i,), name=f"k1-load-{i}", daemon=True)
            for i in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def accepted_until(self, moment: float) -> dict[str, set[str]]:
        """Per user, the items of every write answered 201 by ``moment``."""
        with self.lock:
            return {u: {item for at, item in rows if at <= moment} for u, rows in self.accepted.items()}

    def _run(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        period = self.threads / self.rps
        next_at = time.monotonic()
        while not self._stop.is_set():
            kind = rng.choices(KINDS, self.weights)[0]
            self._one(kind, rng.choice(self.users), rng)
            # A fixed pace, and no catching up after a slow answer: the load stays bounded.
            next_at = max(next_at + period, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _one(self, kind: str, user: str, rng: random.Random) -> None:
        item = f"soak{next(self._items)} pie"
        sent = time.monotonic()
        try:
            if kind == "write":
                response = self.tree.write(user, f"I love {item}")
            elif kind == "search":
                with self.lock:
                    mine = [i for _, i in self.accepted.get(user, [])]
                query = rng.choice(mine) if mine else "pie"
                response = self.tree.call("GET", f"/v1/users/{user}/search", params={"q": query, "limit": 5})
            else:
                response = self.tree.call("GET", f"/v1/users/{user}/favorites")
            status, code = response.status_code, _code(response)
        except requests.RequestException as exc:
            status, code = 0, type(exc).__name__  # no answer at all: the worst outcome
        done = time.monotonic()
        with self.lock:
            self.answers.append(Answer(kind, user, sent, done - sent, status, code))
            if kind == "write" and status == 201:
                self.accepted[user].append((done, item))


def l3_favourites(tree: ProcessTree, user: str) -> set[str] | None:
    """The user's favourites when served from L3, else None (L4, an error, no answer)."""
    try:
        response = tree.call("GET", f"/v1/users/{user}/favorites")
        body = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return None
    if body.get("tier") != "L3":
        return None
    return {v for values in body.get("favorites", {}).values() for v in values if isinstance(v, str)}


@dataclass
class FaultRecord:
    """One injected fault: when it ran, what was accepted by its end, and when that was all in L3."""

    name: str
    started: float
    ended: float
    expected: dict[str, set[str]]
    restarts_before: dict[str, int]
    converged_s: float | None = None


@dataclass
class Convergence:
    """Polls favourites of users with writes not yet seen in L3, while any fault is pending."""

    tree: ProcessTree
    poll_s: float = 1.0
    faults: list[FaultRecord] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # ever seen in L3
    probes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Convergence:
        self._thread = threading.Thread(target=self._run, name="k1-convergence", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def add(self, fault: FaultRecord) -> None:
        with self.lock:
            self.faults.append(fault)

    def pending(self) -> list[FaultRecord]:
        with self.lock:
            return [f for f in self.faults if f.converged_s is None]

    def _missing(self, fault: FaultRecord) -> set[str]:
        return {user for user, items in fault.expected.items() if not items <= self.seen[user]}

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            pending = self.pending()
            for user in sorted(set().union(*(self._missing(f) for f in pending))):
                got = l3_favourites(self.tree, user)
                self.probes += 1
                if got is not None:
                    # Items only accumulate; a lost one is caught by the final check, which reads afresh.
                    self.seen[user] |= got
            now = time.monotonic()
            for fault in pending:
                if not self._missing(fault):
                    fault.converged_s = round(max(0.0, now - fault.ended), 2)
