"""The Mem0-compatible API's scope parsing (``scope_of``, ``filters_from_query``): pure logic, no fakes."""

from __future__ import annotations

import pytest

from memcache_platform.errors import InvalidInput
from memcache_platform.services.compat import Scope, UnsupportedOption, filters_from_query, scope_of


def _code(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.code


def test_a_top_level_user_is_the_scope():
    assert scope_of(user_id="alice") == Scope("alice")


def test_filters_give_user_and_session_alone_or_under_and():
    assert scope_of({"user_id": "alice", "run_id": "s-1"}) == Scope("alice", "s-1")
    assert scope_of({"AND": [{"user_id": "alice"}, {"run_id": "s-1"}]}) == Scope("alice", "s-1")
    assert scope_of({"AND": [{"AND": [{"user_id": "alice"}]}], "run_id": None}) == Scope("alice")


def test_top_level_and_filters_may_repeat_a_value_but_not_contradict_it():
    assert scope_of({"user_id": "alice"}, user_id="alice", run_id="s-1") == Scope("alice", "s-1")
    with pytest.raises(InvalidInput) as exc:
        scope_of({"user_id": "alice"}, user_id="bob")
    assert _code(exc) == "invalid_filters"
    with pytest.raises(InvalidInput) as exc:
        scope_of({"AND": [{"user_id": "alice"}, {"user_id": "bob"}]})
    assert _code(exc) == "invalid_filters"


def test_a_user_is_required():
    for filters, kwargs in ((None, {}), ({"run_id": "s-1"}, {}), ({}, {"run_id": "s-1"})):
        with pytest.raises(InvalidInput) as exc:
            scope_of(filters, **kwargs)
        assert _code(exc) == "missing_user_id"


@pytest.mark.parametrize(
    ("filters", "option"),
    [
        ({"user_id": "alice", "agent_id": "a"}, "filters.agent_id"),
        ({"OR": [{"user_id": "alice"}]}, "filters.OR"),
        ({"user_id": {"in": ["alice", "bob"]}}, "filters.user_id"),
        ({"user_id": "*"}, "filters.user_id"),
    ],
    ids=["other-key", "or", "operator", "wildcard"],
)
def test_filters_beyond_one_user_and_session_are_unsupported_and_named(filters, option):
    with pytest.raises(UnsupportedOption) as exc:
        scope_of(filters)
    assert (exc.value.code, exc.value.details["option"]) == ("unsupported_option", option)


def test_filters_that_are_not_an_object_are_invalid():
    for filters in (["user_id", "alice"], "alice", {"AND": ["alice"]}):
        with pytest.raises(InvalidInput) as exc:
            scope_of(filters)
        assert _code(exc) == "invalid_filters"


def test_ids_are_validated_as_the_v1_api_validates_them():
    with pytest.raises(InvalidInput):
        scope_of(user_id="not a valid id")
    with pytest.raises(InvalidInput):
        scope_of(user_id="alice", run_id="x" * 1000)


def test_filters_from_a_query_parameter_as_json_or_as_python_str_of_a_dict():
    assert filters_from_query('{"user_id": "alice"}') == {"user_id": "alice"}
    assert filters_from_query("{'user_id': 'alice'}") == {"user_id": "alice"}  # MemoryClient.delete_all
    for raw in ("not filters", "x" * 2001):
        with pytest.raises(InvalidInput) as exc:
            filters_from_query(raw)
        assert _code(exc) == "invalid_filters"
