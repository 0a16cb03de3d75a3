"""The streaming sweep planner: pages of known_users, bounded memory, Mem0 read only on reconcile."""

import tracemalloc
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import event

from bench import synthetic_users
from config.settings import Settings
from memcache_platform.db.migrate import upgrade
from memcache_platform.services.sweep_stream import L4Reconciler, StreamingPlanner
from memcache_platform.tiers.known_users import KEPT, USERS_KEY, KnownUsers
from memcache_platform.tiers.l3_store import L3Store
from memcache_platform.tiers.l3_users import L3Users
from memcache_platform.tiers.watermark import Watermarks

pytestmark = pytest.mark.integration
USERS = 200_000


@pytest.fixture(scope="module")
def crowd(postgres_server, redis_server):  # type: ignore[no-untyped-def]
    """200,000 users with current builds, 20 of them one write ahead: a database and Redis db of their own."""
    url = postgres_server.create_database("memcache_crowd", drop_first=True)
    sqlalchemy_url = Settings(database_url=url).sqlalchemy_url
    upgrade(sqlalchemy_url)
    client = redis.Redis.from_url(redis_server.url, db=7)
    client.flushdb()
    users = synthetic_users.user_ids(USERS)
    dirty = set(users[:: USERS // 20])
    synthetic_users.load(url, client, users, dirty=dirty)
    l3 = L3Store.from_url(sqlalchemy_url)
    yield l3, client, dirty
    l3.engine.dispose()
    client.flushdb()


def _planner(l3: L3Store, client: redis.Redis) -> StreamingPlanner:
    return StreamingPlanner(L3Users(l3), KnownUsers(client), Watermarks(client), max_age_s=3600)


def test_a_quiet_plan_of_200000_users_streams_in_pages_and_keeps_memory_bounded(crowd):
    l3, client, dirty = crowd
    planner = _planner(l3, client)
    pages = planner.pages()
    assert iter(pages) is pages  # a generator: nothing is planned until a page is asked for
    tracemalloc.start()
    try:
        seen, found = 0, []
        for page in pages:
            size = len(page.dirty) + len(page.aged) + page.skipped
            assert 0 < size <= planner.page_size  # never more than a page of users at once
            seen += size
            found += [user for _, user in page.dirty]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == USERS
    assert set(found) == dirty
    # All 200,000 ids as str alone are ~12 MB, their rows several times that: a page is well under 5 MB.
    assert peak < 5 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_the_whole_plan_holds_only_the_due_users(crowd):
    l3, client, dirty = crowd
    plan = _planner(l3, client).plan()
    assert (set(plan.dirty), plan.aged, plan.skipped) == (dirty, [], USERS - len(dirty))


@pytest.fixture
def statements(platform):  # type: ignore[no-untyped-def]
    """Every SQL statement the platform's L3 engine runs while the test does (a SQLAlchemy listener).

    PostgreSQL's pg_stat_statements is not available in the embedded server; the listener sees each
    statement the planner sends through L3's engine, which is its only connection to PostgreSQL
    besides the reconciler's own (counted separately below).
    """
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(platform.l3.engine, "before_cursor_execute", record)
    yield seen
    event.remove(platform.l3.engine, "before_cursor_execute", record)


def _platform_planner(platform, calls: list[int]) -> StreamingPlanner:  # type: ignore[no-untyped-def]
    users = L3Users(platform.l3)

    def stats_pages():  # type: ignore[no-untyped-def]
        calls.append(1)
        return platform.l4_user_stats_pages()

    reconciler = L4Reconciler(users, interval_s=3600, stats_pages=stats_pages)
    return StreamingPlanner(
        users, KnownUsers(platform.redis), platform.watermarks, max_age_s=3600, reconciler=reconciler
    )


def test_between_reconciliations_listing_users_reads_no_mem0_table(platform, statements, user_id):
    calls: list[int] = []
    planner = _platform_planner(platform, calls)
    assert planner.reconciler.run()  # now: the next one is due in an hour
    KnownUsers(platform.redis).survived()  # the registry has been seen by a sweep before
    calls.clear()
    statements.clear()
    platform.mem0.add("Likes tea", user_id=f"{user_id}-bypass")  # written around the platform
    KnownUsers(platform.redis).add(f"{user_id}-registered")  # seen by a write whose hand-off was lost
    plan = planner.plan()
    collection = platform.settings.mem0_collection
    assert statements and not [s for s in statements if collection in s]
    assert calls == []  # the reconciler's L4 query did not run
    assert f"{user_id}-registered" in plan.dirty  # the registry and L3 suffice for users the platform saw
    assert f"{user_id}-bypass" not in plan.dirty  # the price: a bypassing write waits for the reconcile
    assert platform.redis.sismember("mc:users", f"{user_id}-registered") == 0  # drained into L3
    assert planner.reconciler.run()
    assert calls == [1]
    assert f"{user_id}-bypass" in planner.plan().dirty


def test_a_registry_lost_with_redis_makes_the_next_plan_read_l4(platform, user_id):
    """Redis restarted empty: the users only its registry knew are found in L4 at once, not in an hour."""
    calls: list[int] = []
    planner = _platform_planner(platform, calls)
    registry = KnownUsers(platform.redis)
    assert planner.reconciler.run()  # the next reconcile is due in an hour
    registry.survived()  # seen by an earlier sweep
    calls.clear()
    platform.mem0.add("Likes tea", user_id=f"{user_id}-lost")  # its hand-off and registry entry lost
    assert f"{user_id}-lost" not in planner.plan().dirty
    assert calls == []  # the registry is intact: no L4 read
    # What a restart empty does to the set, shown on its marker alone: the session's other members stay.
    platform.redis.srem(USERS_KEY, KEPT)
    assert f"{user_id}-lost" in planner.plan().dirty
    assert calls == [1]
    calls.clear()
    planner.plan()
    assert calls == []  # once: the marker is back
    assert KEPT not in registry.members() and all(KEPT not in batch for batch in registry.batches())


def test_l4_counts_older_than_a_build_do_not_make_it_dirty(platform, user_id):
    calls: list[int] = []
    planner = _platform_planner(platform, calls)
    platform.mem0.add("Likes tea", user_id=user_id)
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)
    assert planner.reconciler.run()  # L4: 1 memory, as the build
    platform.mem0.add("Likes coffee", user_id=user_id)
    platform.proactive_cache.update_user_favorite_cache(user_id, force=True)  # the build: 2
    assert user_id not in planner.plan([user_id]).dirty  # the count of 1 predates the build
    platform.mem0.add("Likes cocoa", user_id=user_id)  # a write with no hand-off and no bump
    assert user_id not in planner.plan([user_id]).dirty  # unseen until the next reconcile ...
    assert planner.reconciler.run()
    assert user_id in planner.plan([user_id]).dirty  # ... which finds 3 memories against a build of 2


def test_a_reconcile_is_due_once_per_interval(platform):
    reconciler = L4Reconciler(L3Users(platform.l3), interval_s=3600, stats_pages=platform.l4_user_stats_pages)
    assert reconciler.run()
    now = datetime.now(UTC)
    assert not reconciler.due(now)
    assert reconciler.due(now.replace(year=now.year + 1))
