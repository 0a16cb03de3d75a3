"""Unit tests for the deterministic rules extractor.

Over 400 lines on purpose: mostly parametrized tables of sentences and the facts they must give, one
table per pattern family; splitting them would only separate each family from its counter-examples.
"""

from __future__ import annotations

import random

import pytest

from memcache_platform.extractors import CATEGORIES, Extractor, Fact, RulesExtractor


@pytest.fixture
def extractor() -> RulesExtractor:
    """Return a fresh extractor."""
    return RulesExtractor()


def user(*contents: str) -> list[dict[str, str]]:
    """Wrap texts as user messages."""
    return [{"role": "user", "content": content} for content in contents]


def test_key_example_yields_favourite_and_skill(extractor: RulesExtractor) -> None:
    facts = extractor.extract(user("My favourite food is pho and I'm good at Python"))
    assert facts == [
        Fact("Favourite food is pho", "favorite", "food", "pho"),
        Fact("Good at Python", "skill", None, "Python"),
    ]


def test_name_and_protocol(extractor: RulesExtractor) -> None:
    assert extractor.name == "rules"
    assert isinstance(extractor, Extractor)


@pytest.mark.parametrize(
    "text",
    [
        "My favourite food is pho",
        "My favorite food is pho",
        "my FAVOURITE food is pho.",
        "My fave food is pho!",
        "Hi, my favorite food is pho",
        "My all-time favourite food is pho",
    ],
)
def test_favourite_spellings(extractor: RulesExtractor, text: str) -> None:
    assert extractor.extract(user(text)) == [Fact("Favourite food is pho", "favorite", "food", "pho")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My favourite colour is blue", Fact("Favourite colour is blue", "favorite", "color", "blue")),
        ("My favorite color is blue", Fact("Favourite color is blue", "favorite", "color", "blue")),
        ("My favourite movies are Alien", Fact("Favourite movies are Alien", "favorite", "movies", "Alien")),
        (
            "My favourite kind of music is jazz",
            Fact("Favourite kind of music is jazz", "favorite", "music", "jazz"),
        ),
        ("Pho is my favourite food", Fact("Favourite food is Pho", "favorite", "food", "Pho")),
        ("My favourite is pho", Fact("Likes pho", "favorite", "general", "pho")),
        (
            "My favourite band is Simon and Garfunkel",
            Fact("Favourite band is Simon and Garfunkel", "favorite", "band", "Simon and Garfunkel"),
        ),
    ],
)
def test_favourite_topics(extractor: RulesExtractor, text: str, expected: Fact) -> None:
    assert extractor.extract(user(text)) == [expected]


def test_british_and_american_topic_spellings_share_a_key(extractor: RulesExtractor) -> None:
    facts = extractor.extract(user("My favourite colour is blue.", "My favorite color is blue."))
    assert facts == [Fact("Favourite colour is blue", "favorite", "color", "blue")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love sushi", Fact("Likes sushi", "favorite", "general", "sushi")),
        ("I really like sushi!", Fact("Likes sushi", "favorite", "general", "sushi")),
        ("I enjoy hiking", Fact("Likes hiking", "favorite", "general", "hiking")),
        ("I adore jazz", Fact("Likes jazz", "favorite", "general", "jazz")),
        ("I prefer tea over coffee", Fact("Likes tea", "favorite", "general", "tea")),
        ("I'm a big fan of jazz", Fact("Likes jazz", "favorite", "general", "jazz")),
        ("I like rock and roll", Fact("Likes rock and roll", "favorite", "general", "rock and roll")),
        ("I love sushi too", Fact("Likes sushi", "favorite", "general", "sushi")),
        ("I like pho because it's warm", Fact("Likes pho", "favorite", "general", "pho")),
    ],
)
def test_likes(extractor: RulesExtractor, text: str, expected: Fact) -> None:
    assert extractor.extract(user(text)) == [expected]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("I love pho and ramen", ["pho", "ramen"]),
        ("I really love pho, ramen, and banh mi", ["pho", "ramen", "banh mi"]),
        ("I adore cats & dogs", ["cats", "dogs"]),
    ],
)
def test_like_lists_become_one_fact_per_item(extractor: RulesExtractor, text: str, values: list[str]) -> None:
    assert extractor.extract(user(text)) == [Fact(f"Likes {v}", "favorite", "general", v) for v in values]


def test_long_like_phrases_are_not_split(extractor: RulesExtractor) -> None:
    value = "hiking in the mountains and swimming"
    assert extractor.extract(user(f"I love {value}")) == [
        Fact(f"Likes {value}", "favorite", "general", value)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I hate cilantro",
        "I dislike cilantro.",
        "I can't stand cilantro!",
        "I can\u2019t stand cilantro",
        "I don't like cilantro",
        "I don\u2019t like cilantro",
        "I really do not like cilantro",
        "I'm not a fan of cilantro",
    ],
)
def test_dislikes(extractor: RulesExtractor, text: str) -> None:
    assert extractor.extract(user(text)) == [Fact("Dislikes cilantro", "dislike", "general", "cilantro")]


def test_dislike_lists_and_least_favourite(extractor: RulesExtractor) -> None:
    facts = extractor.extract(
        user("I hate mushrooms, olives and anchovies. My least favourite food is liver")
    )
    assert facts == [
        Fact("Dislikes mushrooms", "dislike", "general", "mushrooms"),
        Fact("Dislikes olives", "dislike", "general", "olives"),
        Fact("Dislikes anchovies", "dislike", "general", "anchovies"),
        Fact("Least favourite food is liver", "dislike", "food", "liver"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm good at Python", Fact("Good at Python", "skill", None, "Python")),
        ("I\u2019m really good at chess", Fact("Good at chess", "skill", None, "chess")),
        ("I am skilled in carpentry", Fact("Good at carpentry", "skill", None, "carpentry")),
        ("I'm an expert in Kubernetes", Fact("Good at Kubernetes", "skill", None, "Kubernetes")),
        ("I'm proficient with Excel", Fact("Good at Excel", "skill", None, "Excel")),
        ("I know Rust", Fact("Knows Rust", "skill", None, "Rust")),
        ("I can speak German", Fact("Speaks German", "skill", None, "German")),
        ("I can code in Go", Fact("Codes in Go", "skill", None, "Go")),
        ("I program in Haskell", Fact("Programs in Haskell", "skill", None, "Haskell")),
        ("I\u2019m fluent in Spanish", Fact("Fluent in Spanish", "skill", None, "Spanish")),
        ("I'm learning Japanese", Fact("Learning Japanese", "skill", None, "Japanese")),
        ("I can play the guitar", Fact("Plays guitar", "skill", None, "guitar")),
    ],
)
def test_skills(extractor: RulesExtractor, text: str, expected: Fact) -> None:
    assert extractor.extract(user(text)) == [expected]


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("I'm good at Python, Go and SQL", "Good at"),
        ("I am proficient in Python, Go, and SQL.", "Good at"),
        ("I know Python, Go & SQL", "Knows"),
    ],
)
def test_multiple_skills_split(extractor: RulesExtractor, text: str, prefix: str) -> None:
    assert extractor.extract(user(text)) == [
        Fact(f"{prefix} Python", "skill", None, "Python"),
        Fact(f"{prefix} Go", "skill", None, "Go"),
        Fact(f"{prefix} SQL", "skill", None, "SQL"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is Alice", Fact("Name is Alice", "profile", "name", "Alice")),
        ("Hi, my name is Alice Smith!", Fact("Name is Alice Smith", "profile", "name", "Alice Smith")),
        ("I\u2019m called Bob", Fact("Name is Bob", "profile", "name", "Bob")),
        ("I live in Berlin", Fact("Lives in Berlin", "profile", "location", "Berlin")),
        ("I live in Berlin with my wife", Fact("Lives in Berlin", "profile", "location", "Berlin")),
        ("I'm from Vietnam", Fact("Is from Vietnam", "profile", "origin", "Vietnam")),
        ("I'm originally from St. Louis", Fact("Is from St. Louis", "profile", "origin", "St. Louis")),
        ("I work as a nurse", Fact("Works as a nurse", "profile", "job", "nurse")),
        ("I work as an engineer at Acme", Fact("Works as an engineer", "profile", "job", "engineer")),
        ("I'm a software engineer", Fact("Is a software engineer", "profile", "job", "software engineer")),
        ("I work at Acme", Fact("Works at Acme", "profile", "employer", "Acme")),
        ("I work for Acme Corp since 2019", Fact("Works for Acme Corp", "profile", "employer", "Acme Corp")),
        ("I'm 34 years old", Fact("Is 34 years old", "profile", "age", "34")),
        ("I am 34", Fact("Is 34 years old", "profile", "age", "34")),
    ],
)
def test_profile(extractor: RulesExtractor, text: str, expected: Fact) -> None:
    assert extractor.extract(user(text)) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "I'm a bit tired today",  # "I'm a ..." that is not a job
        "I'm not good at math",  # negated skill
        "I don't know Python",
        "I know what you mean",  # "know" followed by a clause
        "I love it",  # vague object
        "I'd like a coffee please",  # a request, not a preference
        "My name is not important here at all",  # too long to be a name
    ],
)
def test_lookalikes_fall_back_to_other(extractor: RulesExtractor, text: str) -> None:
    assert extractor.extract(user(text)) == [Fact(text, "other")]


@pytest.mark.parametrize(
    ("text", "expected_texts"),
    [
        ("I like rock and roll and I hate jazz", ["Likes rock and roll", "Dislikes jazz"]),
        (
            "My name is Alice, I'm 30 and I live in Berlin but I'm from Vietnam",
            ["Name is Alice", "Is 30 years old", "Lives in Berlin", "Is from Vietnam"],
        ),
        (
            "My favourite food is pho and my favourite colour is blue",
            ["Favourite food is pho", "Favourite colour is blue"],
        ),
        (
            "I\u2019m good at Go; I\u2019m learning Rust\u2026 I love tea!",
            ["Good at Go", "Learning Rust", "Likes tea"],
        ),
        (
            "- I like tea\n- I hate coffee\r\n* I speak Dutch",
            ["Likes tea", "Dislikes coffee", "Speaks Dutch"],
        ),
    ],
)
def test_statement_splitting(extractor: RulesExtractor, text: str, expected_texts: list[str]) -> None:
    assert [fact.text for fact in extractor.extract(user(text))] == expected_texts


def test_assistant_and_system_messages_are_ignored(extractor: RulesExtractor) -> None:
    messages = [
        {"role": "system", "content": "My name is System and I love rules"},
        {"role": "assistant", "content": "My favourite food is lasagne. I'm good at everything"},
        {"role": "user", "content": "I live in Hanoi"},
        {"role": "tool", "content": "I hate bugs"},
    ]
    assert extractor.extract(messages) == [Fact("Lives in Hanoi", "profile", "location", "Hanoi")]


def test_malformed_messages_are_skipped(extractor: RulesExtractor) -> None:
    messages = [
        {"role": "user"},
        {"content": "I love tea"},
        {"role": "user", "content": None},
        {"role": None, "content": "I love tea"},
        "I love tea",
        {"role": " User ", "content": "I love coffee"},
    ]
    assert extractor.extract(messages) == [Fact("Likes coffee", "favorite", "general", "coffee")]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The weather in Paris is lovely today", "The weather in Paris is lovely today"),
        ("  The   weather\tis   nice!!!  ", "The weather is nice"),
        ("We went hiking last weekend...", "We went hiking last weekend"),
    ],
)
def test_unmatched_statements_become_other(extractor: RulesExtractor, text: str, expected: str) -> None:
    assert extractor.extract(user(text)) == [Fact(expected, "other")]


@pytest.mark.parametrize(
    "text",
    ["hi", "ok", "Hi!", "ok.", "", "   ", "!!! ???", "thank you so much", "What is my favourite food?"],
)
def test_short_junk_pleasantries_and_questions_are_dropped(extractor: RulesExtractor, text: str) -> None:
    assert extractor.extract(user(text)) == []


def test_duplicates_are_emitted_once(extractor: RulesExtractor) -> None:
    facts = extractor.extract(
        user(
            "I love pho. I LOVE PHO! I like pho and sushi",
            "The sky is blue. the SKY is blue",
            "I'm good at Python. I know python",
        )
    )
    assert facts == [
        Fact("Likes pho", "favorite", "general", "pho"),
        Fact("Likes sushi", "favorite", "general", "sushi"),
        Fact("The sky is blue", "other"),
        Fact("Good at Python", "skill", None, "Python"),
    ]


def test_same_value_in_different_categories_is_kept(extractor: RulesExtractor) -> None:
    facts = extractor.extract(user("I love Python. I'm good at Python"))
    assert facts == [
        Fact("Likes Python", "favorite", "general", "Python"),
        Fact("Good at Python", "skill", None, "Python"),
    ]


def test_deterministic(extractor: RulesExtractor) -> None:
    messages = user(
        "My favourite food is pho and I'm good at Python, Go and SQL.",
        "I hate cilantro; I live in Berlin. The weather is nice today",
    )
    first = extractor.extract(messages)
    assert len(first) == 7
    assert extractor.extract(messages) == first
    assert RulesExtractor().extract(messages) == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My favourite food is pho", Fact("Favourite food is pho", "favorite", "food", "pho")),
        ("I\u2019m good at Python", Fact("Good at Python", "skill", None, "Python")),
        ("I love sushi.", Fact("Likes sushi", "favorite", "general", "sushi")),
        ("I don't like olives", Fact("Dislikes olives", "dislike", "general", "olives")),
        ("I live in Berlin", Fact("Lives in Berlin", "profile", "location", "Berlin")),
        # classify handles one statement and does not split lists; extract does.
        (
            "I'm good at Python, Go and SQL",
            Fact("Good at Python, Go and SQL", "skill", None, "Python, Go and SQL"),
        ),
        ("  The weather   is nice!  ", Fact("The weather is nice", "other")),
        ("hi", Fact("hi", "other")),
        ("", Fact("", "other")),
    ],
)
def test_classify(extractor: RulesExtractor, text: str, expected: Fact) -> None:
    assert extractor.classify(text) == expected


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        (
            Fact("Likes sushi", "favorite", "general", "sushi"),
            {"category": "favorite", "topic": "general", "value": "sushi"},
        ),
        (Fact("Good at Python", "skill", None, "Python"), {"category": "skill", "value": "Python"}),
        (Fact("The sky is blue", "other"), {"category": "other"}),
    ],
)
def test_metadata_drops_none(fact: Fact, expected: dict[str, str]) -> None:
    assert fact.metadata() == expected


def test_fact_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="category"):
        Fact("x y", "hobby")


ADVERSARIAL = [
    "",
    " \t\n\r ",
    "\U0001f600" * 50,
    "I love \U0001f35c and \U0001f363",
    "a" * 10_000,
    "I love " + "pho and " * 1200,
    "my favourite " + "x " * 5000,
    "I'm " + "really " * 1400 + "good",
    ", I" * 3300,
    "Mr. " * 2500,
    "." * 10_000,
    "?!;" * 3000,
    "\u05d0\u05e0\u05d9 \u05d0\u05d5\u05d4\u05d1 \u05e4\u05d9\u05e6\u05d4",  # Hebrew (RTL)
    "\u202eI love tea\u202c and \u0627\u0646\u0627 \u0627\u062d\u0628 \u0627\u0644\u0634\u0627\u064a",
    "I\x00 love\x00 tea\x00",
    "\x00" * 100,
    "\ud800 I love tea \udfff",  # lone surrogates
    "\u200b\u200d\ufeff",
    "My name is " + "\u0301" * 100,
    "I'm " + "9" * 500 + " years old",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_input_never_raises(extractor: RulesExtractor, text: str) -> None:
    facts = extractor.extract(user(text))
    assert isinstance(facts, list)
    for fact in facts:
        assert isinstance(fact, Fact)
        assert fact.category in CATEGORIES
        assert fact.text.strip() == fact.text and fact.text
        fact.text.encode("utf-8")  # lone surrogates must not reach stored text
    single = extractor.classify(text)
    assert isinstance(single, Fact) and single.category in CATEGORIES


def test_control_characters_do_not_hide_facts(extractor: RulesExtractor) -> None:
    assert extractor.extract(user("I\x00 love\x00 tea\x00")) == [
        Fact("Likes tea", "favorite", "general", "tea")
    ]
    assert extractor.extract(user("\ud800I love tea\u200b")) == [
        Fact("Likes tea", "favorite", "general", "tea")
    ]


def test_random_input_never_raises_and_is_deterministic(extractor: RulesExtractor) -> None:
    rng = random.Random(1234)
    words = ["I", "I'm", "I\u2019m", "my", "favourite", "is", "are", "and", "but", ",", ".", "?", "love"]
    words += ["hate", "good", "at", "Python", "from", "live", "in", "know", "a", "an", "\U0001f600", "\x00"]
    words += ["\u202e", "\n", "\u2019", "fan", "of", "not", "work", "as", "called", "name", "34"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        junk = "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 30)))
        for sample in (text, junk, text + junk):
            facts = extractor.extract(user(sample))
            assert all(fact.category in CATEGORIES for fact in facts)
            assert extractor.extract(user(sample)) == facts
            assert extractor.classify(sample).category in CATEGORIES
