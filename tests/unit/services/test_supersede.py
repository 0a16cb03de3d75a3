"""The supersede rules (services/supersede.py), one kind at a time: pure logic, no Mem0."""

from memcache_platform.extractors.base import Fact
from memcache_platform.services.supersede import Known, plan


def fav(topic: str, value: str, **kw) -> Fact:  # type: ignore[no-untyped-def]
    return Fact(f"Favourite {topic} is {value}", "favorite", topic, value, **kw)


def like(value: str, **kw) -> Fact:  # type: ignore[no-untyped-def]
    return Fact(f"Likes {value}", "favorite", "general", value, **kw)


def dislike(value: str) -> Fact:
    return Fact(f"Dislikes {value}", "dislike", "general", value)


def events(ops) -> list[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    return [(op.event, op.memory_id, op.fact.text) for op in ops]


def test_a_new_fact_is_added():
    assert events(plan([], [fav("number", "7")])) == [("ADD", None, "Favourite number is 7")]


def test_a_favourite_of_a_topic_replaces_the_earlier_one():
    ops = plan([Known("m1", fav("number", "0"))], [fav("number", "9")])
    assert events(ops) == [("UPDATE", "m1", "Favourite number is 9")]


def test_other_topics_are_left_alone():
    ops = plan([Known("m1", fav("food", "pho"))], [fav("number", "9")])
    assert events(ops) == [("ADD", None, "Favourite number is 9")]


def test_single_valued_profile_kinds_replace():
    for topic in ("name", "location", "employer", "job", "age", "origin"):
        old = Fact(f"{topic} old", "profile", topic, "old")
        new = Fact(f"{topic} new", "profile", topic, "new")
        assert events(plan([Known("m1", old)], [new])) == [("UPDATE", "m1", f"{topic} new")]


def test_a_restated_fact_is_a_no_op_whatever_the_case():
    ops = plan([Known("m1", fav("food", "Pho"))], [fav("food", "pho")])
    assert events(ops) == [("NONE", "m1", "Favourite food is pho")]
    assert events(plan([Known("m2", like("sushi"))], [like("Sushi")])) == [("NONE", "m2", "Likes Sushi")]


def test_likes_skills_and_other_accumulate():
    known = [Known("m1", like("sushi")), Known("m2", Fact("Good at Python", "skill", None, "Python"))]
    new = [like("ramen"), Fact("Good at Go", "skill", None, "Go"), Fact("I have two cats", "other")]
    assert [op.event for op in plan(known, new)] == ["ADD", "ADD", "ADD"]


def test_duplicates_of_a_slot_collapse_into_the_newest():
    known = [Known("m1", fav("number", "1")), Known("m2", fav("number", "2"))]
    assert events(plan(known, [fav("number", "3")])) == [
        ("DELETE", "m1", "Favourite number is 1"),
        ("UPDATE", "m2", "Favourite number is 3"),
    ]


def test_within_one_request_the_last_statement_of_a_slot_wins():
    ops = plan([], [fav("number", str(n)) for n in range(10)])
    assert events(ops) == [("ADD", None, "Favourite number is 9")]


def test_a_retraction_deletes_the_matching_like_only():
    known = [Known("m1", like("sushi")), Known("m2", like("ramen"))]
    assert events(plan(known, [like("sushi", retract=True)])) == [("DELETE", "m1", "Likes sushi")]


def test_a_retraction_of_a_favourite_topic():
    known = [Known("m1", fav("color", "blue")), Known("m2", fav("food", "blue cheese"))]
    ops = plan(known, [fav("color", "blue", retract=True)])
    assert events(ops) == [("DELETE", "m1", "Favourite color is blue")]


def test_a_retraction_with_nothing_to_take_back_is_a_no_op():
    ops = plan([Known("m1", like("ramen"))], [like("sushi", retract=True)])
    assert [(op.event, op.memory_id) for op in ops] == [("NONE", None)]


def test_liking_cancels_a_dislike_of_the_same_thing_and_vice_versa():
    ops = plan([Known("m1", dislike("olives"))], [like("olives")])
    assert events(ops) == [("DELETE", "m1", "Dislikes olives"), ("ADD", None, "Likes olives")]
    ops = plan([Known("m1", like("olives"))], [dislike("olives")])
    assert events(ops) == [("DELETE", "m1", "Likes olives"), ("ADD", None, "Dislikes olives")]


def test_a_like_then_its_retraction_in_one_request_leaves_nothing_new():
    ops = plan([], [like("sushi"), like("sushi", retract=True)])
    assert [op.event for op in ops] == ["ADD", "DELETE"]
