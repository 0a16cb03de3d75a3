"""Rules extractor, word lists: vague values, stop words, chit-chat, fixed phrases, topic spellings."""

from __future__ import annotations

import re

from memcache_platform.extractors.rules.text import _I

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
