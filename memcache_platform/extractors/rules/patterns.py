"""Rules extractor, the patterns: building blocks, plausibility checks and the ordered rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from memcache_platform.extractors.rules.text import _I
from memcache_platform.extractors.rules.words import _BAD_FIRST_WORDS, _JOB_STOP, _KNOW_STOP, _NOT_EMPLOYERS

# --- Pattern building blocks -------------------------------------------------------------------------------

_IM = r"(?:i'm|i\s+am|im)"
# Adverbs between "I" and the verb ("I really love", "I do like", "I also hate").  Each is a literal
# followed by whitespace, so the repetition cannot backtrack badly.
_ADV = (
    r"(?:(?:really|also|absolutely|truly|just|totally|definitely|genuinely|honestly|actually|still"
    r"|currently|do|kinda|kind\s+of|sort\s+of|especially|simply|always|seriously|very\s+much|so|quite"
    r"|pretty\s+much|now|usually|mostly|mainly|generally|personally|certainly|sincerely)\s+)*"
)
_INTENS = (
    r"(?:(?:very|really|pretty|quite|super|so|extremely|fairly|reasonably|rather|incredibly|kind\s+of|kinda"
    r"|also|actually|quite\s+a|actually\s+quite)\s+)*"
)
_FAV = r"(?:(?:all[-\s]time|absolute|very|most|personal|top)\s+)*fav(?:ou?rite|e)?"

# Cuts for trailing qualifiers that belong to the sentence, not to the value.
_CUT_PREFER = re.compile(r"\s+(?:over|rather\s+than|instead\s+of|more\s+than|to\s+\w+ing)\b.*$", _I)
_CUT_WHEN = re.compile(r"\s+(?:when|whenever|if)\b.*$", _I)
_CUT_LOCATION = re.compile(
    r"\s+(?:with|since|for|now|currently|right\s+now|at\s+the\s+moment|these\s+days|nowadays|originally)\b.*$",
    _I,
)
_CUT_ORIGIN = re.compile(r"\s+(?:originally|but|and\s+now|though|since)\b.*$", _I)
_CUT_JOB = re.compile(r"\s+(?:at|for|in|with|since|by)\b.*$", _I)
_CUT_EMPLOYER = re.compile(
    r"\s+(?:since|as\s+an?|now|currently|right\s+now|at\s+the\s+moment|these\s+days|nowadays)\b.*$", _I
)


@dataclass(frozen=True)
class _Rule:
    """One statement pattern and how to turn its match into a fact."""

    pattern: re.Pattern[str]
    category: str
    template: str  # str.format fields: value, topic_text, verb, art, prep, years
    topic: str | None = None  # fixed topic; ignored when topic_from_group is set
    topic_from_group: bool = False  # favourites: topic is the "topic" group, "general" when absent
    split_items: bool = False
    cuts: tuple[re.Pattern[str], ...] = ()
    max_words: int | None = None
    accept: Callable[[str], bool] | None = None
    verbatim: bool = False  # a stored fact's text (``stored.py``): its value is taken as it is


def _first_word(value: str) -> str:
    """Return the lowercased first word of ``value``."""
    return value.split(" ", 1)[0].lower()


def _not_bad_first(value: str) -> bool:
    """Reject values that start a clause about something else ("that you ...", "it when ...")."""
    return _first_word(value) not in _BAD_FIRST_WORDS


def _knowable(value: str) -> bool:
    """Accept "I know Python" and "I know how to cook", not "I know that ..." or "I know you"."""
    lower = value.lower()
    return lower.startswith("how to ") or _first_word(value) not in _KNOW_STOP


def _plausible_age(value: str) -> bool:
    """Accept ages a person can have."""
    return value.isascii() and value.isdigit() and 0 < int(value) <= 130


def _plausible_job(value: str) -> bool:
    """Reject "I'm a bit tired"-style statements that are not jobs."""
    return _first_word(value) not in _JOB_STOP and _first_word(value) not in _BAD_FIRST_WORDS


def _plausible_employer(value: str) -> bool:
    """Reject "I work at home"-style places that are not employers."""
    return value.lower() not in _NOT_EMPLOYERS


def _plausible_name(value: str) -> bool:
    """Reject "my name is not important"-style statements."""
    return _first_word(value) not in {"not", "a", "an", "the", "what", "none"}


def _rule(
    pattern: str,
    category: str,
    template: str,
    *,
    topic: str | None = None,
    topic_from_group: bool = False,
    split_items: bool = False,
    cuts: tuple[re.Pattern[str], ...] = (),
    max_words: int | None = None,
    accept: Callable[[str], bool] | None = None,
) -> _Rule:
    """Compile ``pattern`` case-insensitively into a rule."""
    return _Rule(
        re.compile(pattern, _I),
        category,
        template,
        topic,
        topic_from_group,
        split_items,
        cuts,
        max_words,
        accept,
    )


_LIKE_CUTS = (_CUT_WHEN,)

# Order matters: the first rule whose pattern matches and whose value is accepted wins, so the specific
# forms come before the catch-all "I'm a ..." job rule.
_RULES: tuple[_Rule, ...] = (
    # --- favourites and dislikes ---
    _rule(
        rf"^my\s+least\s+{_FAV}\s+(?P<topic>\S.{{0,60}}?)\s+(?P<verb>is|are|would\s+be|has\s+to\s+be)\s+(?P<value>.+)$",
        "dislike",
        "Least favourite {topic_text} {verb} {value}",
        topic_from_group=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^my\s+{_FAV}\s+(?P<verb>is|are)\s+(?P<value>.+)$",
        "favorite",
        "Likes {value}",
        topic_from_group=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^my\s+{_FAV}\s+(?P<topic>\S.{{0,60}}?)\s+(?P<verb>is|are|would\s+be|has\s+to\s+be|has\s+always\s+been)"
        r"\s+(?P<value>.+)$",
        "favorite",
        "Favourite {topic_text} {verb} {value}",
        topic_from_group=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^(?P<value>[^\s,][^,]{{0,80}}?)\s+(?P<verb>is|are)\s+my\s+(?:absolute\s+|all[-\s]time\s+)*{_FAV}"
        r"\s+(?P<topic>\S.{0,60})$",
        "favorite",
        "Favourite {topic_text} {verb} {value}",
        topic_from_group=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^(?P<value>[^\s,][^,]{{0,80}}?)\s+(?:is|are)\s+my\s+(?:absolute\s+|all[-\s]time\s+)*{_FAV}$",
        "favorite",
        "Likes {value}",
        topic_from_group=True,
        accept=_not_bad_first,
    ),
    # --- profile facts that must win over the looser patterns below ---
    _rule(
        rf"^(?:my\s+(?:first\s+|full\s+)?name\s+is|my\s+name's|{_IM}\s+called|(?:everyone|people|friends)\s+call\s+me)"
        r"\s+(?P<value>.+)$",
        "profile",
        "Name is {value}",
        topic="name",
        max_words=4,
        accept=_plausible_name,
    ),
    _rule(
        rf"^{_IM}\s+(?P<value>\d{{1,3}})(?:\s*(?:years?|yrs?|y/?o)(?:\s+old)?)?$",
        "profile",
        "Is {value} {years} old",
        topic="age",
        accept=_plausible_age,
    ),
    _rule(
        r"^(?:my\s+age\s+is|i\s+(?:just\s+)?turned)\s+(?P<value>\d{1,3})(?:\s*(?:years?|yrs?)(?:\s+old)?)?$",
        "profile",
        "Is {value} {years} old",
        topic="age",
        accept=_plausible_age,
    ),
    # --- "fan of" / "into" ---
    _rule(
        rf"^{_IM}\s+not\s+(?:(?:a|an|really|much\s+of\s+a|that\s+much\s+of\s+a)\s+)*"
        r"(?:(?:big|huge|great|real)\s+)*fan\s+of\s+(?P<value>.+)$",
        "dislike",
        "Dislikes {value}",
        topic="general",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^{_IM}\s+(?:(?:a|an|such\s+a|also\s+a)\s+)?"
        r"(?:(?:big|huge|massive|great|real|true|long[-\s]time|die[-\s]?hard|total)\s+)*fan\s+of\s+(?P<value>.+)$",
        "favorite",
        "Likes {value}",
        topic="general",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^{_IM}\s+not\s+(?:(?:really|very|that|so)\s+)*into\s+(?P<value>.+)$",
        "dislike",
        "Dislikes {value}",
        topic="general",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^{_IM}\s+(?:(?:really|very|so|super|totally|also|quite)\s+)*into\s+(?P<value>.+)$",
        "favorite",
        "Likes {value}",
        topic="general",
        split_items=True,
        accept=_not_bad_first,
    ),
    # --- verbs of (dis)liking; dislikes first so "I don't like" never reads as a like ---
    _rule(
        rf"^i\s+{_ADV}(?:hate|dislike|detest|loathe|despise|abhor|can't\s+stand|cannot\s+stand|can\s+not\s+stand"
        rf"|cant\s+stand|(?:don't|dont|do\s+not)\s+{_ADV}(?:like|enjoy|love|care\s+for))\s+(?P<value>.+)$",
        "dislike",
        "Dislikes {value}",
        topic="general",
        split_items=True,
        cuts=_LIKE_CUTS,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}prefer\s+(?P<value>.+)$",
        "favorite",
        "Likes {value}",
        topic="general",
        split_items=True,
        cuts=(_CUT_PREFER, _CUT_WHEN),
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}(?:love|like|enjoy|adore|dig)\s+(?P<value>.+)$",
        "favorite",
        "Likes {value}",
        topic="general",
        split_items=True,
        cuts=_LIKE_CUTS,
        accept=_not_bad_first,
    ),
    # --- skills ---
    _rule(
        rf"^{_IM}\s+{_INTENS}(?:good|great|excellent|decent|strong|talented|skilled|skillful|skilful|proficient"
        r"|experienced|competent|expert|handy|an?\s+(?:expert|pro|professional|whiz|wizard|ninja|guru|master))"
        r"\s+(?:at|in|with)\s+(?P<value>.+)$",
        "skill",
        "Good at {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^{_IM}\s+{_INTENS}(?:fluent|bilingual)\s+in\s+(?P<value>.+)$",
        "skill",
        "Fluent in {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^(?:{_IM}|i've\s+been|i\s+have\s+been)\s+(?:(?:currently|still|also|now|slowly|really|actually)\s+)*"
        r"learning\s+(?P<value>.+)$",
        "skill",
        "Learning {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        r"^i(?:\s+have|'ve(?:\s+got)?)\s+(?:[\w-]+\s+){0,4}?experience\s+(?:with|in)\s+(?P<value>.+)$",
        "skill",
        "Experienced with {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}(?:can\s+{_ADV})?speak\s+(?P<value>.+)$",
        "skill",
        "Speaks {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}(?:can\s+{_ADV})?(?:code|write\s+code|develop)\s+in\s+(?P<value>.+)$",
        "skill",
        "Codes in {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}(?:can\s+{_ADV})?program\s+in\s+(?P<value>.+)$",
        "skill",
        "Programs in {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}can\s+{_ADV}play\s+(?:the\s+)?(?P<value>.+)$",
        "skill",
        "Plays {value}",
        split_items=True,
        accept=_not_bad_first,
    ),
    _rule(
        rf"^i\s+{_ADV}know\s+(?P<value>.+)$",
        "skill",
        "Knows {value}",
        split_items=True,
        accept=_knowable,
    ),
    # --- where the user lives / comes from ---
    _rule(
        rf"^(?:i\s+{_ADV}(?:live|reside)|{_IM}\s+(?:currently\s+|now\s+)?(?:based|living|located))\s+in"
        r"\s+(?P<value>.+)$",
        "profile",
        "Lives in {value}",
        topic="location",
        cuts=(_CUT_LOCATION,),
        accept=_not_bad_first,
    ),
    _rule(
        r"^i\s+(?:just\s+|recently\s+)?moved\s+to\s+(?P<value>.+)$",
        "profile",
        "Lives in {value}",
        topic="location",
        cuts=(_CUT_LOCATION,),
        accept=_not_bad_first,
    ),
    _rule(
        rf"^(?:{_IM}\s+(?:originally\s+)?from|i\s+(?:originally\s+)?come\s+from|my\s+home\s*town\s+is"
        r"|i\s+grew\s+up\s+in)\s+(?P<value>.+)$",
        "profile",
        "Is from {value}",
        topic="origin",
        cuts=(_CUT_ORIGIN,),
        accept=_not_bad_first,
    ),
    # --- work ---
    _rule(
        rf"^(?:i\s+{_ADV}work|{_IM}\s+(?:currently\s+|now\s+)?working)\s+as\s+(?:(?P<art>an?|the)\s+)?"
        r"(?P<value>.+)$",
        "profile",
        "Works as {art}{value}",
        topic="job",
        cuts=(_CUT_JOB,),
        accept=_plausible_job,
    ),
    _rule(
        r"^my\s+(?:job|occupation|profession)\s+is\s+(?:(?P<art>an?|the)\s+)?(?P<value>.+)$",
        "profile",
        "Job is {art}{value}",
        topic="job",
        cuts=(_CUT_JOB,),
        accept=_not_bad_first,
    ),
    _rule(
        rf"^(?:i\s+{_ADV}work|{_IM}\s+(?:currently\s+|now\s+)?(?:working|employed))\s+(?P<prep>at|for|by)"
        r"\s+(?P<value>.+)$",
        "profile",
        "Works {prep} {value}",
        topic="employer",
        cuts=(_CUT_EMPLOYER,),
        accept=_plausible_employer,
    ),
    # Last: "I'm a/an Y" is loose, so it only counts when nothing more specific matched and Y is short.
    _rule(
        rf"^{_IM}\s+(?:(?:currently|also|now)\s+)?(?P<art>an?)\s+(?P<value>.+)$",
        "profile",
        "Is {art}{value}",
        topic="job",
        cuts=(_CUT_JOB,),
        max_words=4,
        accept=_plausible_job,
    ),
)
