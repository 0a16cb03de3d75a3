"""Rules extractor, matching: a statement against the rules, values cleaned and split, facts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from memcache_platform.extractors.base import Fact
from memcache_platform.extractors.rules.patterns import _RULES, _Rule
from memcache_platform.extractors.rules.retractions import retraction
from memcache_platform.extractors.rules.stored import STORED_RULES
from memcache_platform.extractors.rules.text import (
    _HAS_ALNUM,
    _LEADING_FILLER,
    _REASON_CUT,
    _TAG_CUT,
    _TRAILING_FILLER,
    _TRAILING_PUNCT,
    _WHITESPACE,
    _clean,
    _normalise,
    _statements,
    _word_count,
)
from memcache_platform.extractors.rules.words import (
    _CHIT_CHAT,
    _IDIOMS,
    _ITEM_SEP,
    _MAX_ITEM_WORDS,
    _PROTECTED_SPACE,
    _TOPIC_KIND_OF,
    _TOPIC_SPELLING,
    _VAGUE_VALUES,
)


@dataclass(frozen=True)
class _Match:
    """A rule that matched a statement, before any list splitting."""

    rule: _Rule
    value: str
    fields: dict[str, str]
    topic: str | None


def _clean_value(value: str, cuts: Sequence[re.Pattern[str]]) -> str:
    """Strip reasons, question tags, fillers, punctuation and enclosing quotes from a captured value."""
    value = _TAG_CUT.sub("", value.strip())
    value = _REASON_CUT.sub("", value)
    for cut in cuts:
        value = cut.sub("", value)
    value = _TRAILING_PUNCT.sub("", value)
    for _ in range(4):  # bounded: a handful of stacked fillers ("too lol") is all real text has
        stripped = _TRAILING_PUNCT.sub("", _TRAILING_FILLER.sub("", value))
        if stripped == value:
            break
        value = stripped
    if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        value = value[1:-1].strip()
    return value.strip()


def _usable(value: str, rule: _Rule) -> bool:
    """Tell whether a cleaned value is worth a fact under ``rule``."""
    if not _HAS_ALNUM.search(value) or value.lower() in _VAGUE_VALUES:
        return False
    if rule.max_words is not None and len(value.split()) > rule.max_words:
        return False
    return rule.accept is None or rule.accept(value)


def _canonical_topic(topic: str) -> str:
    """Lowercase a topic, drop "kind of" and map British spellings so equal topics share one key."""
    topic = _TOPIC_KIND_OF.sub("", _WHITESPACE.sub(" ", topic).strip().lower())
    return " ".join(_TOPIC_SPELLING.get(word, word) for word in topic.split(" "))


def _match(statement: str, rules: tuple[_Rule, ...] = _RULES) -> _Match | None:
    """Return the first of ``rules`` that matches ``statement`` with a usable value, or None."""
    text = _LEADING_FILLER.sub("", statement)
    if not text:
        return None
    for rule in rules:
        found = rule.pattern.match(text)
        if found is None:
            continue
        value = found.group("value") if rule.verbatim else _clean_value(found.group("value"), rule.cuts)
        if not _usable(value, rule):
            continue
        groups = found.groupdict()
        topic_text = _WHITESPACE.sub(" ", (groups.get("topic") or "")).strip().lower()
        if rule.topic_from_group:
            if topic_text and not _HAS_ALNUM.search(topic_text):
                continue
            topic: str | None = _canonical_topic(topic_text) if topic_text else "general"
        else:
            topic = rule.topic
        art = (groups.get("art") or "").lower()
        fields = {
            "topic_text": topic_text,
            "verb": "are" if (groups.get("verb") or "").lower() == "are" else "is",
            "art": f"{art} " if art else "",
            "prep": "for" if (groups.get("prep") or "at").lower() in ("for", "by") else "at",
            "years": "year" if value == "1" else "years",
        }
        return _Match(rule, value, fields, topic)
    return None


def _split_items(value: str) -> list[str]:
    """Split "pho, ramen and sushi" into items, or return [value] when it does not read as a short list."""
    protected = _IDIOMS.sub(lambda m: _WHITESPACE.sub(_PROTECTED_SPACE, m.group()), value)
    parts = [part.replace(_PROTECTED_SPACE, " ").strip() for part in _ITEM_SEP.split(protected)]
    if len(parts) < 2:
        return [value]
    # Long pieces mean the "and" joins clauses or phrases ("hiking in the mountains and swimming"),
    # so splitting would produce fragments; keep the value whole instead.
    if any(not _HAS_ALNUM.search(part) or len(part.split()) > _MAX_ITEM_WORDS for part in parts):
        return [value]
    return parts


def _fact(found: _Match, value: str) -> Fact:
    """Render the fact for ``value`` under a matched rule."""
    text = found.rule.template.format(value=value, **found.fields)
    return Fact(text=text, category=found.rule.category, topic=found.topic, value=value)


def _is_chit_chat(statement: str) -> bool:
    """Tell whether a statement is only pleasantries ("thank you so much", "ok cool")."""
    words = [re.sub(r"[^\w']", "", token).lower() for token in statement.split()]
    return all(word in _CHIT_CHAT for word in words if word)


def _dedupe_key(fact: Fact) -> tuple[bool, str, str | None, str]:
    """Return the identity used to drop repeated facts within one call."""
    if fact.category == "other":
        return (fact.retract, fact.category, None, fact.text.casefold())
    return (fact.retract, fact.category, fact.topic, (fact.value or fact.text).casefold())


class RulesExtractor:
    """Extract facts from user messages with fixed English patterns; no model, no network."""

    name = "rules"

    def classify(self, text: str) -> Fact:
        """Classify one statement; unmatched statements come back as category "other"."""
        statement = _clean(_normalise(text if isinstance(text, str) else ""))
        # A text the rules rendered reads back as its fact ("Favourite food is pho"); else a statement.
        found = _match(statement, STORED_RULES) or _match(statement)
        if found is None:
            return Fact(text=statement, category="other")
        return _fact(found, found.value)

    def extract(self, messages: Sequence[Mapping[str, str]]) -> list[Fact]:
        """Return the deduplicated facts stated in the user messages, in order of appearance."""
        facts: list[Fact] = []
        seen: set[tuple[bool, str, str | None, str]] = set()
        for message in messages or ():
            # Callers pass loosely typed JSON; anything that is not a user message with text is skipped.
            if not isinstance(message, Mapping):
                continue
            role, content = message.get("role"), message.get("content")
            if not isinstance(role, str) or role.strip().lower() != "user" or not isinstance(content, str):
                continue
            for fact in self._facts_in(content):
                key = _dedupe_key(fact)
                if key not in seen:
                    seen.add(key)
                    facts.append(fact)
        return facts

    def _facts_in(self, content: str) -> Iterator[Fact]:
        """Yield the facts of one message's text, before deduplication."""
        for statement in _statements(content):
            if (taken_back := retraction(statement.text, _canonical_topic)) is not None:
                yield taken_back
                continue
            found = _match(statement.text)
            if found is not None:
                values = _split_items(found.value) if found.rule.split_items else [found.value]
                for value in values:
                    if _usable(value, found.rule):
                        yield _fact(found, value)
                continue
            # A question asks rather than tells, and pleasantries carry nothing worth remembering.
            if statement.is_question or _word_count(statement.text) < 2 or _is_chit_chat(statement.text):
                continue
            yield Fact(text=statement.text, category="other")
