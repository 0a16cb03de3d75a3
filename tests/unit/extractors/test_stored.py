"""The rules read their own output back: ``classify(fact.text) == fact`` for every fact they render.

The platform stores the rendered texts ("Favourite drink is coffee") and reads them back (an import
of its own Mem0 export, the compat update's re-classification). One sentence form per template of
``patterns._RULES``, with Hypothesis drawing the values; a coverage test keeps the forms in step
with the templates, so a new fact kind without a form fails here.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from memcache_platform.extractors import Fact, RulesExtractor
from memcache_platform.extractors.rules.patterns import _RULES

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# A user sentence per template; ``{v}`` is the value, ``{t}`` a topic.
FORMS = {
    "Least favourite {topic_text} {verb} {value}": "My least favourite {t} is {v}",
    "Likes {value}": "I love {v}",
    "Favourite {topic_text} {verb} {value}": "My favourite {t} is {v}",
    "Name is {value}": "My name is {v}",
    "Is {value} {years} old": "I'm {n} years old",
    "Dislikes {value}": "I hate {v}",
    "Good at {value}": "I'm good at {v}",
    "Fluent in {value}": "I'm fluent in {v}",
    "Learning {value}": "I'm learning {v}",
    "Experienced with {value}": "I have experience with {v}",
    "Speaks {value}": "I speak {v}",
    "Codes in {value}": "I code in {v}",
    "Programs in {value}": "I program in {v}",
    "Plays {value}": "I can play {v}",
    "Knows {value}": "I know {v}",
    "Lives in {value}": "I live in {v}",
    "Is from {value}": "I'm from {v}",
    "Works as {art}{value}": "I work as {a} {v}",
    "Job is {art}{value}": "My job is {a} {v}",
    "Works {prep} {value}": "I work {p} {v}",
    "Is {art}{value}": "I'm {a} {v}",
}

_WORD = st.from_regex(r"[A-Za-z][a-z]{0,7}", fullmatch=True) | st.sampled_from(
    ["C++", "Node.js", "is", "are", "and", "the", "a", "of", "years", "old", "Python", "São", "rock'n'roll"]
)
values = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)
topics = st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), min_size=1, max_size=2).map(" ".join)


def _round_trips(sentence: str) -> list[Fact]:
    """The facts ``sentence`` extracts to, each checked to classify back to itself; the facts."""
    extractor = RulesExtractor()
    facts = [f for f in extractor.extract([{"role": "user", "content": sentence}]) if f.category != "other"]
    for fact in facts:
        assert extractor.classify(fact.text) == fact, (sentence, fact)
    return facts


def test_every_template_has_a_form() -> None:
    assert set(FORMS) == {rule.template for rule in _RULES}


@pytest.mark.parametrize(("template", "form"), FORMS.items())
def test_each_form_renders_its_template(template: str, form: str) -> None:
    """Not vacuous: each form yields a fact of its template, which classifies back to itself."""
    sentence = form.format(v="Python", t="food", n=34, a="a", p="at")
    prefix = template.split("{", 1)[0]
    assert [f.text.startswith(prefix) for f in _round_trips(sentence)] == [True], sentence


@PROPERTY
@given(
    template=st.sampled_from(sorted(FORMS)),
    value=values,
    topic=topics,
    age=st.integers(1, 130),
    art=st.sampled_from(["a", "an", "the"]),
    prep=st.sampled_from(["at", "for", "by"]),
)
@example(
    template="Favourite {topic_text} {verb} {value}", value="coffee", topic="drink", age=1, art="a", prep="at"
)
def test_every_rendered_fact_classifies_back_to_itself(
    template: str, value: str, topic: str, age: int, art: str, prep: str
) -> None:
    _round_trips(FORMS[template].format(v=value, t=topic, n=age, a=art, p=prep))


def test_the_readme_facts_read_back() -> None:
    """The texts the platform shows (README, Mem0-compatible answers) are facts, not "other"."""
    extractor = RulesExtractor()
    assert extractor.classify("Favourite drink is coffee") == Fact(
        "Favourite drink is coffee", "favorite", "drink", "coffee"
    )
    assert extractor.classify("Good at Python") == Fact("Good at Python", "skill", None, "Python")
