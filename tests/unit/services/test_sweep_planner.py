"""The planner's dirty-mark rule, as pure logic: in-memory stand-ins for the registry, L3 and watermarks.

No fault is simulated here; the stand-ins only hold the inputs the rule reads (the integration and
e2e tests run the same rule against the real stores).
"""

from datetime import UTC, datetime, timedelta

from memcache_platform.errors import CacheUnavailable, MemoryStoreUnavailable
from memcache_platform.services.sweep import SweepPlanner
from memcache_platform.tiers.l3_store import BuildState

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BUILT = NOW - timedelta(minutes=5)


class Registry:
    """Users the Redis set and L3 know (the real registry unions both)."""

    def __init__(self, users: list[str]) -> None:
        self.users = users

    def all_users(self, *, reconcile: bool = True) -> list[str]:
        return sorted(self.users)


class L3:
    """Build states and dirty marks, as ``L3Store`` returns them."""

    def __init__(self, states: dict[str, BuildState], marks: dict[str, datetime]) -> None:
        self.states = states
        self.marks = marks

    def build_states(self) -> dict[str, BuildState]:
        return self.states

    def dirty_marks(self) -> dict[str, datetime]:
        return self.marks


class Watermarks:
    """Watermarks as Redis holds them: 0 for a key it does not have."""

    def __init__(self, marks: dict[str, int]) -> None:
        self.marks = marks

    def current_many(self, users: list[str]) -> dict[str, int]:
        return {u: self.marks.get(u, 0) for u in users}


def _planner(states, marks, *, known=(), watermarks=None) -> SweepPlanner:  # type: ignore[no-untyped-def]
    return SweepPlanner(
        Registry(list(known)),
        L3(states, marks),  # type: ignore[arg-type]
        Watermarks(watermarks or {}),  # type: ignore[arg-type]
        max_age_s=3600,
        l4_stats=None,  # the hosted backend: no aggregate over L4
    )


def test_a_mark_newer_than_the_build_makes_the_user_dirty_without_l4_counts():
    states = {"alice": BuildState(7, BUILT, 1), "bob": BuildState(7, BUILT, 1)}
    plan = _planner(states, {"alice": BUILT + timedelta(seconds=1)}, known=states).plan(now=NOW)
    assert (plan.dirty, plan.skipped) == (["alice"], 1)


def test_a_mark_older_than_the_build_is_answered():
    states = {"alice": BuildState(7, BUILT, 1)}
    plan = _planner(states, {"alice": BUILT - timedelta(seconds=1)}, known=states).plan(now=NOW)
    assert (plan.dirty, plan.skipped) == ([], 1)


def test_marked_users_unknown_to_the_registry_and_never_built_are_swept():
    # Redis restarted empty (no registry, no watermarks) and L3 never built carol: only the mark knows her.
    plan = _planner({}, {"carol": NOW}).plan(now=NOW)
    assert plan.dirty == ["carol"]


def test_a_marked_user_is_dirty_although_its_watermark_looks_current():
    # The build recorded watermark 7; Redis still says 7 (the write's bump failed): the mark decides.
    states = {"alice": BuildState(7, BUILT, 1)}
    plan = _planner(states, {"alice": NOW}, known=["alice"], watermarks={"alice": 7}).plan(now=NOW)
    assert plan.dirty == ["alice"]


# --- the other rules of ``plan``: never built, watermark, age, L4 counts, order, degraded inputs ---


class DownWatermarks:
    """Redis down: every watermark read fails as ``Watermarks`` fails."""

    def current_many(self, users: list[str]) -> dict[str, int]:
        raise CacheUnavailable("redis down")


class RecordingRegistry(Registry):
    """Also records whether the planner asked it to reconcile with L3 (it must without L4 counts)."""

    reconcile: bool | None = None

    def all_users(self, *, reconcile: bool = True) -> list[str]:
        self.reconcile = reconcile
        return sorted(self.users)


def _with_l4(states, stats, *, known=(), watermarks=None, registry=None) -> SweepPlanner:  # type: ignore[no-untyped-def]
    return SweepPlanner(
        registry or Registry(list(known)),
        L3(states, {}),  # type: ignore[arg-type]
        watermarks if watermarks is not None else Watermarks({}),  # type: ignore[arg-type]
        max_age_s=3600,
        l4_stats=stats if callable(stats) else (lambda: stats),
    )


def test_a_user_never_built_is_dirty():
    plan = _planner({}, {}, known=["alice"], watermarks={"alice": 3}).plan(now=NOW)
    assert (plan.dirty, plan.aged, plan.skipped) == (["alice"], [], 0)


def test_a_watermark_newer_than_the_build_makes_the_user_dirty():
    states = {"alice": BuildState(7, BUILT, 1), "bob": BuildState(7, BUILT, 1)}
    plan = _planner(states, {}, known=states, watermarks={"alice": 8, "bob": 7}).plan(now=NOW)
    assert (plan.dirty, plan.skipped) == (["alice"], 1)


def test_a_build_older_than_the_max_age_is_aged_and_a_younger_one_skipped():
    old = NOW - timedelta(seconds=3601)
    states = {"alice": BuildState(7, old, 1), "bob": BuildState(7, NOW - timedelta(seconds=3599), 1)}
    plan = _planner(states, {}, known=states, watermarks={"alice": 7, "bob": 7}).plan(now=NOW)
    assert (plan.dirty, plan.aged, plan.skipped) == ([], ["alice"], 1)


def test_dirty_users_come_oldest_write_first_then_aged_oldest_build_first():
    states = {
        "a-new-write": BuildState(1, BUILT, 1),
        "b-old-write": BuildState(1, BUILT, 1),
        "c-aged-later": BuildState(5, NOW - timedelta(hours=2), 1),
        "d-aged-first": BuildState(5, NOW - timedelta(hours=3), 1),
    }
    watermarks = {"a-new-write": 30, "b-old-write": 20, "c-aged-later": 5, "d-aged-first": 5}
    plan = _planner(states, {}, known=states, watermarks=watermarks).plan(now=NOW)
    assert plan.dirty == ["b-old-write", "a-new-write"]
    assert plan.aged == ["d-aged-first", "c-aged-later"]
    assert plan.users == plan.dirty + plan.aged


def test_without_watermarks_every_user_is_dirty():
    states = {"alice": BuildState(7, BUILT, 1)}
    plan = _with_l4(states, {"alice": (1, None)}, known=states, watermarks=DownWatermarks()).plan(now=NOW)
    assert plan.dirty == ["alice"]


def test_an_l4_count_the_build_does_not_match_makes_the_user_dirty():
    # Hand-off and watermark bump both lost: only L4's own count tells.
    states = {"alice": BuildState(7, BUILT, 1), "bob": BuildState(7, BUILT, 2)}
    stats = {"alice": (2, BUILT - timedelta(seconds=1)), "bob": (2, BUILT - timedelta(seconds=1))}
    plan = _with_l4(states, stats, watermarks=Watermarks({"alice": 7, "bob": 7})).plan(now=NOW)
    assert (plan.dirty, plan.skipped) == (["alice"], 1)


def test_an_l4_change_newer_than_the_build_makes_the_user_dirty():
    states = {"alice": BuildState(7, BUILT, 1)}  # same count: an update, or a delete plus an add
    stats = {"alice": (1, BUILT + timedelta(seconds=1))}
    plan = _with_l4(states, stats, watermarks=Watermarks({"alice": 7})).plan(now=NOW)
    assert plan.dirty == ["alice"]


def test_a_built_user_gone_from_l4_is_dirty():
    states = {"alice": BuildState(7, BUILT, 1)}
    plan = _with_l4(states, {}, known=["alice"], watermarks=Watermarks({"alice": 7})).plan(now=NOW)
    assert plan.dirty == ["alice"]  # L4 holds 0 memories, the build 1: its rows must go


def test_users_only_l4_knows_are_planned_and_the_registry_is_not_reconciled():
    registry = RecordingRegistry([])
    plan = _with_l4({}, {"dave": (1, NOW)}, registry=registry).plan(now=NOW)
    assert plan.dirty == ["dave"]
    assert registry.reconcile is False


def test_when_l4_counts_fail_the_plan_goes_on_without_them_and_reconciles_the_registry():
    def failing() -> dict:
        raise MemoryStoreUnavailable("mem0 down")

    registry = RecordingRegistry(["alice"])
    states = {"alice": BuildState(7, BUILT, 1)}
    plan = _with_l4(states, failing, registry=registry, watermarks=Watermarks({"alice": 7})).plan(now=NOW)
    assert (plan.dirty, plan.skipped) == ([], 1)
    assert registry.reconcile is True


def test_an_explicit_user_list_is_planned_alone_and_deduplicated():
    states = {"alice": BuildState(7, BUILT, 1)}
    planner = _planner(states, {"zoe": NOW}, known=["bob"], watermarks={"alice": 7})
    plan = planner.plan(["alice", "alice", "carol"], now=NOW)
    assert (plan.dirty, plan.skipped) == (["carol"], 1)
