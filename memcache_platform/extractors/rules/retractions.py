"""Rules extractor, retractions: statements that take back a like or a favourite.

"I don't like sushi anymore", "I no longer love jazz", "I stopped liking tea", "I'm not into golf
anymore", "My favourite colour is no longer blue". Each becomes a ``Fact`` with ``retract=True``:
never stored itself, it removes the matching like or favourite (``services/supersede.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from memcache_platform.extractors.base import Fact
from memcache_platform.extractors.rules.text import _I

_ANYMORE = r"(?:\s+(?:any\s?more|now|these\s+days))?"
_VALUE = r"(?P<value>[^,;]{1,80}?)"
_LIKES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, _I)
    for pattern in (
        rf"^i\s+(?:don'?t|do\s+not)\s+(?:really\s+)?(?:like|love|enjoy|adore)\s+{_VALUE}\s+any\s?more$",
        rf"^i\s+no\s+longer\s+(?:like|love|enjoy|adore|prefer)\s+{_VALUE}{_ANYMORE}$",
        rf"^i\s+(?:stopped|quit)\s+(?:liking|loving|enjoying)\s+{_VALUE}{_ANYMORE}$",
        rf"^i'?m\s+(?:no\s+longer|not)\s+(?:into|a\s+fan\s+of)\s+{_VALUE}\s+any\s?more$",
        rf"^i'?m\s+no\s+longer\s+(?:into|a\s+fan\s+of)\s+{_VALUE}$",
    )
)
_FAVOURITE = re.compile(
    r"^my\s+(?:fav(?:ou?rite|e))\s+(?P<topic>[a-z][a-z\s-]{0,38}?)\s+"
    rf"(?:(?:is|are)\s+(?:no\s+longer|not)|isn'?t|aren'?t)\s+{_VALUE}{_ANYMORE}$",
    _I,
)


def retraction(statement: str, canonical_topic: Callable[[str], str]) -> Fact | None:
    """The retraction ``statement`` makes, if it is one."""
    text = statement.strip().rstrip(".!")
    for pattern in _LIKES:
        if match := pattern.match(text):
            value = match["value"].strip()
            return Fact(f"No longer likes {value}", "favorite", "general", value, retract=True)
    if match := _FAVOURITE.match(text):
        said, value = match["topic"].strip(), match["value"].strip()
        return Fact(
            f"Favourite {said} is no longer {value}", "favorite", canonical_topic(said), value, retract=True
        )
    return None
