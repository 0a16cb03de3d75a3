"""Rules extractor, text handling: normalisation, sentence and clause splitting, cleanup."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Statement:
    """One clause cut out of a message, already cleaned."""

    text: str
    is_question: bool


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
