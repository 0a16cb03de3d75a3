"""What the tests of ``make run``'s process tree share: running one, reading favourites, waiting."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator

from memcache_platform.dev.process_tree import ProcessTree
from tests.conftest import TEST_VAR


@contextlib.contextmanager
def running(tree: ProcessTree, log_name: str) -> Iterator[ProcessTree]:
    """Start ``tree``, stop it after; its log is kept as ``var/test/<log_name>`` (the suite's own
    var directory is removed at the end, and a failed run needs the log)."""
    tree.start()
    try:
        yield tree
    finally:
        tree.stop()
        shutil.copy(tree.log_path, TEST_VAR.parent / log_name)


def favourites(tree: ProcessTree, user: str) -> tuple[str, set[str]]:
    """The tier that answered the user's favourites, and their general favourites."""
    body = tree.call("GET", f"/v1/users/{user}/favorites").json()
    return body.get("tier", "?"), set(body.get("favorites", {}).get("general", []))


def wait_until(probe: Callable[[], object], timeout_s: float, interval_s: float = 0.2) -> bool:
    """Poll ``probe`` until it is truthy (True) or ``timeout_s`` passed (False)."""
    deadline = time.monotonic() + timeout_s
    while not probe():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True
