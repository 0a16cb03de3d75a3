"""/readyz answers 503 "starting" at once while this process still builds Mem0; data requests wait."""

import threading
import time

import pytest

from config.settings import get_settings
from memcache_platform.api import create_app
from memcache_platform.wiring import Platform

pytestmark = pytest.mark.integration


class HeldBuildPlatform(Platform):
    """Test-only: Mem0's build blocks until the test releases it, then hands over the session's Mem0.

    Holding the real ≈10 s build with an Event makes "during the build" last as long as the test
    needs, without paying a second Mem0 build in this process.
    """

    def __init__(self, session_mem0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(get_settings())
        self.session_mem0 = session_mem0
        self.building = threading.Event()
        self.release = threading.Event()

    def _build_mem0(self):  # type: ignore[no-untyped-def]
        self.building.set()
        assert self.release.wait(30), "test never released the build"
        return self.session_mem0


def test_readyz_is_503_starting_at_once_during_the_build(platform, auth, user_id):
    held = HeldBuildPlatform(platform.mem0)
    client = create_app(held.settings, held).test_client()
    build = held.start_mem0_build()
    assert held.building.wait(5)
    answers: dict[str, object] = {}
    search = threading.Thread(
        target=lambda: answers.update(search=client.get(f"/v1/users/{user_id}/search?q=tea", headers=auth))
    )
    try:
        search.start()
        started = time.perf_counter()
        ready = client.get("/readyz")
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0
        assert ready.status_code == 503
        assert ready.json["status"] == "starting"
        assert ready.json["checks"]["mem0"] == {"ok": False, "error": "starting"}
        assert ready.json["checks"]["redis"]["ok"]  # the other dependencies are still reported
        assert not held.mem0_loaded
        time.sleep(0.2)
        assert "search" not in answers  # the data request waits for the build, it does not fail
    finally:
        held.release.set()
        build.join(10)
        search.join(30)
    assert answers["search"].status_code == 200  # type: ignore[attr-defined]
    assert held.mem0_loaded
    after = client.get("/readyz")
    assert (after.status_code, after.json["checks"]["mem0"]["ok"]) == (200, True)
