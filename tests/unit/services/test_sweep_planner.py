"""The planner's dirty-mark rule, as pure logic: in-memory stand-ins for the registry, L3 and watermarks.

No fault is simulated here; the stand-ins only hold the inputs the rule reads (the integration and
e2e tests run the same rule against the real stores).
"""

from datetime import UTC, datetime, timedelta

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
