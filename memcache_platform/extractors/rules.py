"""Deterministic, offline fact extraction from first-person statements using regular expressions.

How a message becomes facts:

1. Only ``role == "user"`` messages are read; what the assistant or system says is not a fact about the user.
2. The content is normalised (NFC, curly quotes to straight ones, control and invisible characters removed)
   and split into sentences on ``. ! ? ;`` (when followed by a space or the end), ``…`` and line breaks.
3. Each sentence is split into clauses at "and" / "but" / "," (and a few other joiners) only when a new
   first-person clause follows ("... and I'm good at Python", "..., my name is Alice"), so
   "I like rock and roll" stays one clause.
4. Each clause goes through an ordered list of anchored patterns; the first that matches with a usable value
   wins.  A clause that matches nothing becomes an "other" fact if it has at least two words, is not a
   question and is not pure chit-chat ("thank you", "ok cool").

Design choices:

* Lists after like/dislike/skill verbs become one fact per item ("I love pho and ramen" -> "Likes pho",
  "Likes ramen"), but only when every item is at most three words long; otherwise ("I love hiking in the
  mountains and swimming") the value is kept whole.  A few fixed phrases ("rock and roll", "fish and chips",
  "salt and pepper", ...) are never split.
* An explicit "my favourite X is/are Y" keeps Y whole, because favourites are usually one named thing
  ("My favourite band is Simon and Garfunkel").
* All likes read "Likes ...", all dislikes "Dislikes ..." whatever the verb (love, adore, hate, ...), so the
  same preference stated twice dedupes and reads the same.
* ``Fact.topic`` is lowercased and a few British spellings are mapped to American ones ("colour" -> "color")
  so the same topic gets one key; ``Fact.text`` keeps the user's spelling ("Favourite colour is blue").
* ``classify`` looks at one statement and returns one fact, so a list stays whole there
  ("Good at Python, Go and SQL"); ``extract`` is what splits it.

Every pattern is anchored, uses bounded or non-overlapping repetition, and runs on text without newlines, so
matching time grows linearly with the input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from memcache_platform.extractors.base import Fact

_I = re.IGNORECASE

# --- Normalisation -----------------------------------------------------------------------------------------

# Users type apostrophes and quotes in many shapes; patterns are written against the ASCII ones only.
_QUOTE_TABLE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
# Line-like breaks become "\n" so that they end a sentence just like a newline does.
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Other control characters (NUL included) become spaces so they cannot glue two words together.
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")  # all but \n and \r
# Zero-width, bidi-control characters and lone surrogates carry no words; surrogates would also make the
# fact text impossible to encode as UTF-8 later on.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")

# --- Splitting into statements -----------------------------------------------------------------------------

# A dot only ends a sentence when a space or the end follows, so "3.5", "Node.js" and "e.g." stay intact.
_SENTENCE_END = re.compile(r"[\u3002\uff01\uff1f\uff1b]+|[.!?;\u2026]+(?=\s|$)")
# Titles before a name: "Mr. Smith" must not end the sentence.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "mt", "prof", "sr", "jr", "vs", "e.g", "i.e"})
# Start of a new first-person clause.  "my <up to 4 words> is/are" rather than a bare "my", so
# "I love my mom and my dad" is not cut in two.
_CLAUSE_START = r"(?:i(?:'m|'ve|'d|'ll)?\b|im\b|my\s+(?:name\b|[\w'-]+(?:\s+[\w'-]+){0,3}?\s+(?:is|are)\b))"
_JOINERS = r"(?:and|but|so|plus|also|though|although|while|whereas|then)"
_CLAUSE_SPLIT = re.compile(
    rf"(?:\s*,\s*(?:{_JOINERS}\s+)?|\s+{_JOINERS}\s+|\s+-+\s+)(?={_CLAUSE_START})",
    _I,
)

# --- Cleaning statements and values ------------------------------------------------------------------------

_LEADING_JUNK = re.compile(r"^(?:[-*\u2022\u00b7>\u2013\u2014]+\s+|[,.;:!?\u2026]+\s*)+")
_TRAILING_PUNCT = re.compile(r"[\s.,!?;:\u2026\u3002\uff01\uff1f\u3001~]+$")
# Discourse fillers in front of a statement hide its pattern ("Hi, my name is ...", "Also I like ...").
_LEADING_FILLER = re.compile(
    r"^(?:(?:and|but|so|also|oh|well|actually|btw|by\s+the\s+way|honestly|anyway|anyways|plus|yeah|yes|yep"
    r"|ok|okay|um|umm|uh|hmm|hi|hello|hey|hiya|fyi|fwiw|lol|haha|oh\s+and)\b[\s,!:.-]*)+",
    _I,
)
# Reasons and question tags after the value are not part of it: "pho because it's warm", "Alice, you?".
_REASON_CUT = re.compile(r"\s+(?:because|'?cause|cuz|coz)\b.*$", _I)
_TAG_CUT = re.compile(
    r"\s*,\s*(?:right|you\s+know|lol|haha|though|tho|btw|and\s+you|what\s+about\s+you|how\s+about\s+you"
    r"|what's\s+yours|what\s+is\s+yours|do\s+you|don't\s+you|isn't\s+it|you)\b.*$",
    _I,
)
# Also drops a dangling conjunction ("pho and").  Checked one word at a time (in a loop) so a long run of
# fillers cannot cause quadratic backtracking.
_TRAILING_FILLER = re.compile(
    r"\s+(?:too|as\s+well|a\s+lot|lots|very\s+much|so\s+much|a\s+ton|the\s+most|lol|haha|though|tho|also"
    r"|really|honestly|anyway|i\s+guess|i\s+think|and|or|but|&)$",
    _I,
)
_HAS_ALNUM = re.compile(r"[^\W_]")

# A value that is only a pronoun or vague word says nothing about the user ("I love it", "I'm good at that").
_VAGUE_VALUES = frozenset(
    {
        "it",
        "that",
        "this",
        "them",
        "him",
        "her",
        "you",
        "me",
        "us",
        "those",
        "these",
        "one",
        "so",
        "too",
        "everything",
        "nothing",
        "anything",
        "something",
        "all",
        "stuff",
        "things",
        "yourself",
        "myself",
        "you guys",
        "it all",
        "all of it",
        "all of them",
        "both",
    }
)
# First words that turn a like/dislike/favourite into a clause about something else ("I love that you ...").
_BAD_FIRST_WORDS = frozenset(
    {
        "that",
        "when",
        "whenever",
        "how",
        "what",
        "why",
        "where",
        "who",
        "which",
        "if",
        "it",
        "it's",
        "its",
        "you",
        "your",
        "yours",
        "you're",
        "him",
        "her",
        "them",
        "this",
        "these",
        "those",
        "they",
        "he",
        "she",
        "we",
        "us",
        "me",
        "there",
        "here",
        "not",
    }
)
# "I know ..." is only a skill when followed by a thing, not a clause or a person-pronoun.
_KNOW_STOP = _BAD_FIRST_WORDS | frozenset(
    {
        "i",
        "my",
        "right",
        "nothing",
        "everything",
        "something",
        "anything",
        "someone",
        "somebody",
        "everyone",
        "exactly",
        "about",
        "of",
        "the",
        "a",
        "an",
        "so",
        "too",
        "now",
        "already",
        "better",
        "lots",
        "many",
        "much",
        "some",
        "all",
        "because",
        "since",
        "though",
        "yeah",
        "whether",
        "whom",
        "nobody",
        "no",
        "more",
        "enough",
        "plenty",
    }
)
# "I'm a <word> ..." that describes a state or preference rather than a job.
_JOB_STOP = frozenset(
    {
        "bit",
        "little",
        "lot",
        "tad",
        "few",
        "couple",
        "fan",
        "big",
        "huge",
        "massive",
        "total",
        "complete",
        "real",
        "true",
        "bad",
        "terrible",
        "morning",
        "night",
        "dog",
        "cat",
        "people",
        "very",
        "kind",
        "sort",
        "fast",
        "slow",
        "quick",
    }
)
_NOT_EMPLOYERS = frozenset({"home", "night", "nights", "weekends", "the moment", "the weekend", "a desk"})
# Statements made only of these words are pleasantries, not memories.
_CHIT_CHAT = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hiya",
        "yo",
        "there",
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "ok",
        "okay",
        "k",
        "cool",
        "nice",
        "great",
        "awesome",
        "yes",
        "no",
        "yeah",
        "yep",
        "nope",
        "sure",
        "lol",
        "haha",
        "please",
        "bye",
        "goodbye",
        "good",
        "morning",
        "afternoon",
        "evening",
        "night",
        "see",
        "ya",
        "later",
        "sounds",
        "got",
        "it",
        "alright",
        "all",
        "right",
        "much",
        "very",
        "so",
        "oh",
        "ah",
        "hmm",
        "wow",
        "welcome",
        "cheers",
        "i",
        "a",
        "lot",
        "again",
        "perfect",
        "fine",
    }
)

# --- Splitting lists into items ----------------------------------------------------------------------------

_ITEM_SEP = re.compile(r"\s*,\s*(?:(?:and|or|&)\s+)?|\s+(?:and|&|plus|as\s+well\s+as)\s+", _I)
# Fixed phrases whose "and" is part of the name; they are protected from item splitting.
_IDIOMS = re.compile(
    r"\b(?:rock\s+and\s+roll|fish\s+and\s+chips|mac\s+and\s+cheese|salt\s+and\s+pepper|black\s+and\s+white"
    r"|drum\s+and\s+bass|rhythm\s+and\s+blues|peanut\s+butter\s+and\s+jelly|bread\s+and\s+butter"
    r"|sweet\s+and\s+sour|arts\s+and\s+crafts|dungeons\s+and\s+dragons|law\s+and\s+order"
    r"|pride\s+and\s+prejudice|simon\s+and\s+garfunkel|research\s+and\s+development|trial\s+and\s+error"
    r"|hide\s+and\s+seek|tom\s+and\s+jerry|rick\s+and\s+morty|bed\s+and\s+breakfast|cookies\s+and\s+cream"
    r"|strawberries\s+and\s+cream|gin\s+and\s+tonic|rum\s+and\s+coke|spaghetti\s+and\s+meatballs"
    r"|ham\s+and\s+cheese|bacon\s+and\s+eggs|surf\s+and\s+turf|bosnia\s+and\s+herzegovina"
    r"|trinidad\s+and\s+tobago|antigua\s+and\s+barbuda)\b",
    _I,
)
_PROTECTED_SPACE = "\x00"  # NUL never survives normalisation, so it cannot clash with user text
_MAX_ITEM_WORDS = 3

# --- Topics ------------------------------------------------------------------------------------------------

_TOPIC_SPELLING = {
    "colour": "color",
    "colours": "colors",
    "flavour": "flavor",
    "flavours": "flavors",
    "humour": "humor",
    "theatre": "theater",
    "theatres": "theaters",
    "programme": "program",
    "programmes": "programs",
    "jewellery": "jewelry",
    "neighbourhood": "neighborhood",
    "centre": "center",
}
_TOPIC_KIND_OF = re.compile(r"^(?:kind|type|sort|genre|style)\s+of\s+", _I)

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


@dataclass(frozen=True)
class _Statement:
    """One clause cut out of a message, already cleaned."""

    text: str
    is_question: bool


@dataclass(frozen=True)
class _Match:
    """A rule that matched a statement, before any list splitting."""

    rule: _Rule
    value: str
    fields: dict[str, str]
    topic: str | None


def _normalise(text: str) -> str:
    """Unify quotes, line breaks and invisible characters; keep newlines as sentence boundaries."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTE_TABLE)
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    return _CONTROL.sub(" ", text)


def _clean(text: str) -> str:
    """Collapse whitespace and strip list bullets and trailing punctuation."""
    text = _WHITESPACE.sub(" ", text).strip()
    text = _LEADING_JUNK.sub("", text)
    return _TRAILING_PUNCT.sub("", text)


def _ends_with_abbreviation(body: str) -> bool:
    """Tell whether a sentence that ends in "." really ends in a title such as "Dr."."""
    words = body.rsplit(None, 1)
    return bool(words) and words[-1].lower() in _ABBREVIATIONS


def _sentences(text: str) -> Iterator[tuple[str, bool]]:
    """Yield (sentence, is_question) pairs in order of appearance."""
    for line in text.split("\n"):
        start = 0
        pending = ""
        for end in _SENTENCE_END.finditer(line):
            body = pending + line[start : end.start()]
            start = end.end()
            if end.group() == "." and _ends_with_abbreviation(body):
                pending = body + "."
                continue
            pending = ""
            yield body, "?" in end.group() or "\uff1f" in end.group()
        rest = pending + line[start:]
        if rest.strip():
            yield rest, False


def _statements(text: str) -> Iterator[_Statement]:
    """Yield the cleaned clauses of ``text`` in order of appearance."""
    for sentence, is_question in _sentences(_normalise(text)):
        collapsed = _WHITESPACE.sub(" ", sentence).strip()
        for clause in _CLAUSE_SPLIT.split(collapsed):
            cleaned = _clean(clause)
            if cleaned:
                yield _Statement(cleaned, is_question)


def _word_count(text: str) -> int:
    """Count the whitespace-separated tokens that contain a letter or digit."""
    return sum(1 for token in text.split() if _HAS_ALNUM.search(token))


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


def _match(statement: str) -> _Match | None:
    """Return the first rule that matches ``statement`` with a usable value, or None."""
    text = _LEADING_FILLER.sub("", statement)
    if not text:
        return None
    for rule in _RULES:
        found = rule.pattern.match(text)
        if found is None:
            continue
        value = _clean_value(found.group("value"), rule.cuts)
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


def _dedupe_key(fact: Fact) -> tuple[str, str | None, str]:
    """Return the identity used to drop repeated facts within one call."""
    if fact.category == "other":
        return (fact.category, None, fact.text.casefold())
    return (fact.category, fact.topic, (fact.value or fact.text).casefold())


class RulesExtractor:
    """Extract facts from user messages with fixed English patterns; no model, no network."""

    name = "rules"

    def classify(self, text: str) -> Fact:
        """Classify one statement; unmatched statements come back as category "other"."""
        statement = _clean(_normalise(text if isinstance(text, str) else ""))
        found = _match(statement)
        if found is None:
            return Fact(text=statement, category="other")
        return _fact(found, found.value)

    def extract(self, messages: Sequence[Mapping[str, str]]) -> list[Fact]:
        """Return the deduplicated facts stated in the user messages, in order of appearance."""
        facts: list[Fact] = []
        seen: set[tuple[str, str | None, str]] = set()
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
