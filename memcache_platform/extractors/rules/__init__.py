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

from memcache_platform.extractors.rules.extractor import RulesExtractor

__all__ = ["RulesExtractor"]
