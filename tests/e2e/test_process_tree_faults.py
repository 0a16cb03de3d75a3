"""Real faults in the process tree that users run: no process dies, no write is lost.

The arrangement is ``make run``'s (``memcache dev run`` in a subprocess: the supervisor, gunicorn with
two workers, a prefork Celery worker, RedBeat beat, Flower) with cache and broker on one Redis and
default settings (rate limits included), except a sweep interval of 20 s (so "healed within one
sweep interval" is quick to observe). Faults are real signals on real
processes; writes keep arriving throughout. Nothing is mocked.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import psutil
import pytest
import requests

from config.settings import Settings
from memcache_platform.dev.process_tree import ProcessTree
from memcache_platform.tiers.l3_store import L3Store
from tests.conftest import TEST_VAR
from tests.support.tree import favourites, running, wait_until

pytestmark = pytest.mark.integration

SWEEP_INTERVAL_S = 20
USERS = [f"tree-user-{i}" for i in range(6)]
CONVERGE_S = SWEEP_INTERVAL_S + 10  # one sweep interval, plus the sweep's own run on 2 busy cores
FRESH_WRITE_S = 2.0


@dataclass
class Writer:
    """Writes a new, distinct favourite for one user after another, every ``pause_s``."""

    tree: ProcessTree
    pause_s: float = 0.15
    accepted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    answers: list[tuple[float, int, float]] = field(default_factory=list)  # (sent at, status, seconds)
    _stop: threading.Event = field(default_factory=threading.Event)
    _n: int = 0

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(60)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._n += 1
            user, item = USERS[self._n % len(USERS)], f"fruit{self._n}"
            sent = time.monotonic()
            try:
                status = self.tree.write(user, f"I love {item} pie").status_code
            except requests.RequestException:
                status = 0  # no answer at all: the worst outcome
            self.answers.append((sent, status, time.monotonic() - sent))
            if status == 201:
                self.accepted[user].append(f"{item} pie")
            time.sleep(self.pause_s)

    def statuses(self, since: float = 0.0) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for sent, status, _ in self.answers:
            if sent >= since:
                counts[status] += 1
        return dict(counts)


@pytest.fixture(scope="module")
def tree():
    settings = {"MEMCACHE_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S)}
    with running(ProcessTree(TEST_VAR / "tree", settings=settings), "last-process-tree.log") as t:
        yield t


@pytest.fixture
def writer(tree):
    w = Writer(tree).start()
    yield w
    w.stop()


def assert_converged(tree: ProcessTree, writer: Writer, timeout_s: float = CONVERGE_S) -> None:
    """Every user's L3 (favourites from tier L3) and L2 (a search served from L2) hold every 201 write.

    The writer stops first: a write arriving between two searches would rightly make the second a miss.
    """
    writer.stop()
    deadline = time.monotonic() + timeout_s
    missing: dict[str, object] = {}
    while time.monotonic() < deadline:
        missing = {}
        for user in USERS:
            expected = set(writer.accepted[user])
            tier, got = favourites(tree, user)
            if tier != "L3" or not expected <= got:
                missing[user] = {"tier": tier, "missing": sorted(expected - got)[:5]}
        if not missing:
            break
        time.sleep(1)
    assert not missing, f"not converged within {timeout_s} s: {missing}"
    # An L2 hit is served only from a generation built from the user's current watermark, i.e. from
    # every accepted write: a hit on the last write's query shows L2 holds all of them.
    for user in [u for u in USERS if writer.accepted[u]]:
        last = writer.accepted[user][-1]
        answers = [tree.call("GET", f"/v1/users/{user}/search", params={"q": last, "limit": 3}) for _ in "ab"]
        assert answers[0].status_code == 200
        assert last in [r["memory"].split("Likes ", 1)[-1] for r in answers[0].json()["results"]]
        assert answers[1].json()["tier"] == "L2", answers[1].json()


def assert_fresh_write_reaches_l3(tree: ProcessTree) -> None:
    """A write after recovery is in L3 within 2 s."""
    user = f"fresh-{time.monotonic_ns()}"
    assert tree.write(user, "I love durian tart").status_code == 201
    deadline = time.monotonic() + FRESH_WRITE_S
    while time.monotonic() < deadline:
        tier, got = favourites(tree, user)
        if tier == "L3" and "durian tart" in got:
            return
        time.sleep(0.05)
    pytest.fail(f"a fresh write was not in L3 within {FRESH_WRITE_S} s: {favourites(tree, user)}")


def assert_nothing_exited(tree: ProcessTree, before: dict[str, int], *, killed: str | None = None) -> None:
    """No Procfile process exited (restarts unchanged), except ``killed``, which is back and running."""
    after = tree.restarts()
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed <= ({killed} if killed else set()), f"processes exited: {changed}\n{_tail(tree)}"
    assert all(p["running"] for p in tree.processes().values()), tree.processes()


def assert_all_accepted(writer: Writer, since: float, *, allow_503: bool = False) -> None:
    statuses = writer.statuses(since)
    allowed = {201, 503} if allow_503 else {201}
    assert statuses and set(statuses) <= allowed, statuses


def _tail(tree: ProcessTree, lines: int = 60) -> str:
    return "\n".join(tree.log().splitlines()[-lines:])


def _kill_restart_redis(tree: ProcessTree, down_s: float = 1.0) -> None:
    assert tree.redis.process is not None
    tree.redis.process.send_signal(signal.SIGKILL)
    tree.redis.process.wait(10)
    time.sleep(down_s)
    tree.redis.start()  # same port, empty: what a Redis without persistence does after a crash


def test_tree_starts_and_writes_converge(tree, writer):
    started = time.monotonic()
    time.sleep(3)
    assert_all_accepted(writer, started)
    assert_converged(tree, writer, timeout_s=10)
    assert_fresh_write_reaches_l3(tree)


def test_redis_sigkill_and_restart_empty_five_times(tree, writer):
    before, started = tree.restarts(), time.monotonic()
    for _ in range(5):
        _kill_restart_redis(tree)
        time.sleep(6)  # beat ticks at least every 10 s; the worker reconnects in seconds
        assert_nothing_exited(tree, before)
    assert_all_accepted(writer, started)
    assert_converged(tree, writer)
    assert_fresh_write_reaches_l3(tree)
    assert_nothing_exited(tree, before)


def test_hand_offs_lost_with_redis_heal_at_once(tree):
    """Hand-offs queued in the broker when Redis restarts empty are healed by a sweep at once.

    The worker is SIGSTOPped, so the writes' hand-offs wait in Redis (the broker, as under ``make
    run``). Redis is SIGKILLed and restarted empty, losing them, the watermarks and the registry, and
    the worker continues. Nobody writes or reads them again (L3 is read straight from PostgreSQL: a
    read through the API would itself ask for a rebuild), so only a sweep can heal these two users:
    one built before, one new (known only to the lost registry). Beat re-installs the lost schedule
    with the sweep due at once (RedBeat would count it as run at the restart: a whole interval later),
    and the sweep, finding the registry lost, reads L4 for the new user (else: the hourly reconcile).
    """
    stamp = time.monotonic_ns()
    old, new = f"lost-old-{stamp}", f"lost-new-{stamp}"
    assert tree.write(old, "I love quince pie").status_code == 201
    assert wait_until(lambda: favourites(tree, old) == ("L3", {"quince pie"}), 10), favourites(tree, old)
    worker = tree.main_process("worker.1")
    stopped = [worker, *worker.children()]
    for process in stopped:
        process.suspend()
    try:
        for user in (old, new):
            assert tree.write(user, "I love medlar pie").status_code == 201
        _kill_restart_redis(tree)
    finally:
        for process in stopped:
            process.resume()
    restarted = time.monotonic()
    l3 = L3Store.from_url(Settings(database_url=tree.pg.url("memcache_tree")).sqlalchemy_url)

    def in_l3(user: str) -> bool:
        entry = l3.get(user)
        return entry is not None and "medlar pie" in entry.summary.favorites.get("general", [])

    bound = SWEEP_INTERVAL_S - 5  # the regular sweep would come a whole interval after the restart
    try:
        healed = wait_until(lambda: in_l3(old) and in_l3(new), bound)
        assert healed, (
            f"not in L3 {bound} s after the restart: {[l3.get(u) for u in (old, new)]}\n{_tail(tree)}"
        )
    finally:
        l3.engine.dispose()
    print(f"\nhealed {time.monotonic() - restarted:.1f} s after the restart")


def test_broker_and_cache_unreachable_for_60_s(tree, writer):
    """Under make run the broker is the cache Redis: both away for a minute, then back empty."""
    before, started = tree.restarts(), time.monotonic()
    _kill_restart_redis(tree, down_s=60)
    time.sleep(6)
    assert_nothing_exited(tree, before)
    assert_all_accepted(writer, started)
    assert_converged(tree, writer)
    assert_fresh_write_reaches_l3(tree)


def test_redis_sigstop_for_10_s(tree, writer):
    before, started = tree.restarts(), time.monotonic()
    assert tree.redis.process is not None
    tree.redis.process.send_signal(signal.SIGSTOP)
    try:
        time.sleep(3)  # the breaker has opened on the first timeouts
        t0 = time.monotonic()
        ready = requests.get(tree.url + "/readyz", timeout=5)
        readyz_s = time.monotonic() - t0
        time.sleep(7)
    finally:
        tree.redis.process.send_signal(signal.SIGCONT)
    assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
    assert readyz_s <= 1.0, f"/readyz took {readyz_s:.2f} s while Redis hung"
    time.sleep(5)
    assert_nothing_exited(tree, before)
    assert_all_accepted(writer, started)
    assert_converged(tree, writer)
    assert_fresh_write_reaches_l3(tree)


def test_postgresql_fast_shutdown_and_start(tree, writer):
    """Mem0 (L4) and L3 share this PostgreSQL: writes answer 503 in bounded time while it is down."""
    before, started = tree.restarts(), time.monotonic()
    tree.pg.stop()
    time.sleep(5)
    tree.pg.start()
    time.sleep(5)
    assert_nothing_exited(tree, before)
    assert_all_accepted(writer, started, allow_503=True)
    assert max(seconds for sent, _, seconds in writer.answers if sent >= started) < 15
    assert_converged(tree, writer)
    assert_fresh_write_reaches_l3(tree)


def test_sigkill_of_a_worker_child_mid_rebuild(tree, writer):
    before, started = tree.restarts(), time.monotonic()
    worker = tree.main_process("worker.1")
    pool = len(worker.children())
    for _ in range(3):
        children = worker.children()
        assert children, "the Celery worker has no pool children"
        victim = children[0]
        victim.send_signal(signal.SIGKILL)  # the pool replaces it; its task is redelivered
        back = wait_until(lambda v=victim: len([c for c in worker.children() if c.pid != v.pid]) == pool, 10)
        assert back, f"the pool was not refilled within 10 s: {worker.children()}"
        time.sleep(2)
    assert worker.is_running()
    assert_nothing_exited(tree, before)
    assert_all_accepted(writer, started)
    # Within one sweep interval, and well before the 30 s rebuild lock a killed child held could lapse:
    # the redelivered task takes its own lock over.
    assert_converged(tree, writer, timeout_s=SWEEP_INTERVAL_S)
    assert_fresh_write_reaches_l3(tree)


def test_sigkill_of_beat_is_restarted(tree, writer):
    before, started = tree.restarts(), time.monotonic()
    beat = tree.main_process("beat.1")
    beat.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and tree.restarts().get("beat.1") == before["beat.1"]:
        time.sleep(0.2)
    while time.monotonic() < deadline and not tree.processes()["beat.1"]["running"]:
        time.sleep(0.2)
    assert tree.restarts()["beat.1"] == before["beat.1"] + 1, "beat was not restarted within 10 s"
    assert_nothing_exited(tree, before, killed="beat.1")
    assert tree.main_process("beat.1").pid != beat.pid
    assert_all_accepted(writer, started)
    assert_converged(tree, writer)
    assert_fresh_write_reaches_l3(tree)


def test_sigkill_of_one_web_worker(tree, writer):
    before, started = tree.restarts(), time.monotonic()
    master = tree.main_process("web.1")
    victim = master.children()[0]
    victim.send_signal(signal.SIGKILL)

    def workers() -> list[int]:
        return [c.pid for c in master.children() if c.status() != psutil.STATUS_ZOMBIE]

    # Back within 10 s: gunicorn forks the replacement at once (it then builds Mem0 before it accepts).
    replaced = wait_until(lambda: len(workers()) == 2 and victim.pid not in workers(), 10)
    assert replaced, f"gunicorn did not replace its worker within 10 s: {workers()}"
    assert wait_until(tree.ready, 60), "the API did not get ready again"
    # Writes flow again (one may have waited for the new worker to build Mem0).
    assert wait_until(lambda: sum(writer.statuses(started).values()) >= 12, 60), writer.statuses(started)
    assert master.is_running()
    assert_nothing_exited(tree, before)
    # Requests on the killed worker's connections may fail; the writer sees no 5xx from the others,
    # and none waits for the replacement's Mem0 build: it accepts only once built.
    statuses = writer.statuses(started)
    assert set(statuses) <= {0, 201} and statuses.get(201), statuses
    slow = [round(s, 1) for sent, status, s in writer.answers if sent >= started and status and s > 5]
    assert not slow, f"writes waited for the replacement worker: {slow} s"
    assert_converged(tree, writer)
    assert_fresh_write_reaches_l3(tree)


def test_ctrl_c_stops_everything(tree):
    """Last: SIGINT to ``memcache dev run`` stops every process of the tree and its servers."""
    pids = [tree.main_process(name).pid for name in tree.processes()]
    assert tree.stop() is not None
    assert not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert tree.redis.process is None
    tree.proc = None  # stopped: the fixture's teardown has nothing left to do
