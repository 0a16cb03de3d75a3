"""Rules extractor, its own output read back: one pattern per fact template ("Favourite {topic_text} ...").

The platform stores facts as the texts the rules render ("Favourite food is pho", "Good at Python"),
and reads such texts back (a Mem0 export of its own memories, the compat update's new text). Those
are not first-person, so no user-sentence rule matches them: each rule's template is inverted into
a pattern with the rule's own category, topic and checks, so the same fact comes back. Only
``classify`` uses these; what user messages extract to does not change.
"""

from __future__ import annotations

import re
import string
from dataclasses import replace

from memcache_platform.extractors.rules.patterns import _RULES, _Rule
from memcache_platform.extractors.rules.text import _I

# What each template field renders to (``extractor._match``'s fields), as a pattern group.
_FIELDS = {
    "value": r"(?P<value>.+)",
    "topic_text": r"(?P<topic>\S.{0,60}?)",
    "verb": r"(?P<verb>is|are)",
    "art": r"(?:(?P<art>an?|the)\s+)?",  # "a ", "an ", "the " or nothing, glued to the value
    "prep": r"(?P<prep>at|for)",
    "years": r"years?",
}


def _pattern(template: str) -> re.Pattern[str]:
    """The anchored pattern of the texts ``template`` renders; its spaces match any whitespace."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(r"\s+".join(re.escape(word) for word in literal.split(" ")))
        if field is not None:
            parts.append(_FIELDS[field])
    return re.compile(f"^{''.join(parts)}$", _I)


def _inverted(rules: tuple[_Rule, ...]) -> tuple[_Rule, ...]:
    """One rule per template (the first, as ``_match`` would pick it), matching its rendered texts."""
    seen: set[str] = set()
    inverted = []
    for rule in rules:
        if rule.template not in seen:
            seen.add(rule.template)
            # No cuts: a stored value is already clean, and cleaning it again could change it.
            inverted.append(replace(rule, pattern=_pattern(rule.template), cuts=(), verbatim=True))
    return tuple(inverted)


STORED_RULES: tuple[_Rule, ...] = _inverted(_RULES)
