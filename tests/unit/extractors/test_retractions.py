"""Retractions in the rules extractor: statements that take back a like or a favourite."""

import pytest

from memcache_platform.extractors import RulesExtractor

extract = RulesExtractor().extract


def facts(text: str):  # type: ignore[no-untyped-def]
    return extract([{"role": "user", "content": text}])


@pytest.mark.parametrize(
    "text",
    [
        "I don't like sushi anymore",
        "I do not love sushi any more.",
        "I no longer like sushi",
        "I stopped liking sushi",
        "I'm not into sushi anymore",
        "I'm no longer a fan of sushi",
    ],
)
def test_taking_back_a_like(text):
    (fact,) = facts(text)
    assert (fact.retract, fact.category, fact.topic, fact.value) == (True, "favorite", "general", "sushi")


@pytest.mark.parametrize(
    "text", ["My favourite colour is no longer blue", "My favorite color isn't blue anymore"]
)
def test_taking_back_a_favourite_of_a_topic(text):
    (fact,) = facts(text)
    assert (fact.retract, fact.category, fact.topic, fact.value) == (True, "favorite", "color", "blue")


@pytest.mark.parametrize("text", ["I don't like sushi", "I love sushi", "My favourite colour is blue"])
def test_plain_statements_are_not_retractions(text):
    assert not any(f.retract for f in facts(text))
