"""Property-based fuzzing of every operation of ``/openapi.json`` with Schemathesis, in-process over WSGI.

Every operation of the served document is fuzzed three times: with the normal API key, with the admin key
(admin routes are only reachable with it), and with a tenant-restricted key (``acme-*``: 403 elsewhere)
against an app of its own Settings with low rate limits (429 with its headers). Each run has
Schemathesis's examples and fuzzing phases (a bounded, deterministic number of generated requests per
operation, positive and negative data), then its coverage phase (boundary values, missing parameters,
unexpected methods). Every response must be

* not a server error: an unhandled exception answers 500 and fails the run;
* a documented status code, with the documented content type and a body matching the documented schema;
* a 2xx (or 401/403/404/429/5xx) to a request the document calls valid (``positive_data_acceptance``), and a
  4xx to one it calls invalid (``negative_data_rejection``).

The document is generated from the pydantic models that validate each request, Mem0-compatible ones
included; ``test_mem0_compatible_bodies`` also sends structured bodies (real option names, odd values)
through the same checks. ``test_fixed_bugs`` replays the bugs this fuzzing found (all fixed), so
that each stays fixed.

Safety: the runs could erase any user ``DELETE /v1/users/{user_id}`` or
``DELETE /v2/entities/user/{name}/`` names, so the user they name is confined to the ``fuzz-``
prefix; every user created here is erased when the module ends.

Schemathesis 4's ``schemathesis.pytest.from_fixture`` does not run under pytest 9 (it sets
``Function._nodeid``, which pytest 9 removed), so the schema is loaded at import time from the same
document ``GET /openapi.json`` serves (``test_fuzzed_document_is_the_served_one`` checks they are
equal), and each request goes to the session's ``app`` fixture through Schemathesis's WSGI transport.

Over 400 lines on purpose: the runs with each key, their settings and the replayed bugs found so far
belong together, so that a reader sees in one place what the fuzzing covers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_KEY, API_KEY, TENANT_KEY

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 15
ERASE_PREFIX = "fuzz-"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, suppress_health_check=_HEALTH
)
# Mem0-compatible operations with a JSON body, which answer 415 to a missing or non-JSON body (once
# undocumented there; test_fixed_bugs keeps them honest).
_JSON_BODY_OPERATIONS = frozenset(
    {
        "POST /v3/memories/add/",
        "POST /v3/memories/search/",
        "POST /v3/memories/",
        "PUT /v1/memories/{memory_id}/",
    }
)


def _served_document() -> dict[str, Any]:
    """What ``GET /openapi.json`` answers, built without a request (pytest collects before any fixture)."""
    from config.settings import get_settings
    from memcache_platform.api import create_app, openapi

    return json.loads(json.dumps(openapi.document(create_app(), get_settings())))


def _load(key: str, phases: list[str]) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_dict(_served_document())
    schema.config.update(headers={"Authorization": f"Bearer {key}"})
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, with_security_parameters=False, database="none"
    )
    schema.config.phases.update(phases=phases)
    # A 413 rejects too: a body over MEMCACHE_MAX_BODY_BYTES (a batch past maxItems) is refused unread.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


# Explicit cases (``operation.Case(...)``) do not get the configured headers: they pass this.
_AUTH = {"Authorization": f"Bearer {API_KEY}"}
user_fuzz = _load(API_KEY, ["examples", "fuzzing"])
admin_fuzz = _load(ADMIN_KEY, ["examples", "fuzzing"])
user_coverage = _load(API_KEY, ["coverage"])
admin_coverage = _load(ADMIN_KEY, ["coverage"])
tenant_fuzz = _load(TENANT_KEY, ["examples", "fuzzing"])
tenant_coverage = _load(TENANT_KEY, ["coverage"])
# Statuses the tenant-key runs got: they must have met both the 403 and the 429 they document.
TENANT_STATUSES: Counter[int] = Counter()
LOW_LIMITS = {
    "rate_limit_user_writes": "3/second",
    "rate_limit_user_searches": "3/second",
    "rate_limit_writes": "40/minute",
    "rate_limit_searches": "40/minute",
    "rate_limit_bulk": "3/minute",
}


# The operations that erase a user, and the path parameter naming that user.
ERASURES = {
    "DELETE /v1/users/{user_id}": "user_id",
    "DELETE /v2/entities/{entity_type}/{entity_name}/": "entity_name",
}


def _confine_erasure(case: schemathesis.Case) -> None:
    """Keep erasures to users named ``fuzz-...`` (whatever follows the prefix, valid or not)."""
    name = ERASURES.get(case.operation.label)
    if name and case.path_parameters:
        user_id = str(case.path_parameters.get(name, ""))
        if not user_id.startswith(ERASE_PREFIX):
            case.path_parameters[name] = (ERASE_PREFIX + user_id)[:128]


def _call_and_validate(case: schemathesis.Case, app: Any) -> int:
    _confine_erasure(case)
    name = ERASURES.get(case.operation.label)
    if name and case.path_parameters and name in case.path_parameters:
        assert str(case.path_parameters[name]).startswith(ERASE_PREFIX)
    response = case.call(app=app)
    case.validate_response(response, checks=CHECKS)
    return response.status_code


@pytest.fixture(scope="module")
def limited_app(platform):  # type: ignore[no-untyped-def]
    """An app of its own Settings with low rate limits (and the session's Mem0, to skip a 10 s build)."""
    from memcache_platform.api import create_app
    from memcache_platform.wiring import Platform

    low = platform.settings.model_copy(update=LOW_LIMITS)
    flask_app = create_app(low, Platform(low, mem0=platform.mem0))
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture(scope="module", autouse=True)
def _erase_fuzzed_users(platform) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Erase, when the module ends, every user the fuzzing created (they would skew later sweeps)."""
    before = set(platform.registry.all_users())
    yield
    from tasks import app as celery_app

    # The fuzzing enqueued hundreds of rebuilds and sweeps: drop them rather than make later tests
    # wait behind them on the session's single worker.
    with celery_app.connection_for_write() as conn:
        for queue in ("handoff", "sweep"):
            conn.default_channel.queue_purge(queue)
    for user_id in sorted(set(platform.registry.all_users()) - before):
        platform.erasure.erase(user_id)
    platform.redis.delete("mc:sweep-running")  # a purged sweep never finishes to release its claim


def test_fuzzed_document_is_the_served_one(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == _served_document()


def test_every_operation_is_fuzzed() -> None:
    """The parametrized tests below cover the whole document, admin and Mem0-compatible routes included."""
    labels = {result.ok().label for result in user_fuzz.get_all_operations()}
    documented = {
        f"{method.upper()} {path}"
        for path, item in _served_document()["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert labels == documented
    assert len(labels) >= 29  # the 3 Mem0 "not served here" operations are not in the document


@user_fuzz.parametrize()
@_SETTINGS
def test_fuzz_with_user_key(case: schemathesis.Case, app) -> None:  # type: ignore[no-untyped-def]
    _call_and_validate(case, app)


@admin_fuzz.parametrize()
@_SETTINGS
def test_fuzz_with_admin_key(case: schemathesis.Case, app) -> None:  # type: ignore[no-untyped-def]
    _call_and_validate(case, app)


@user_coverage.parametrize()
@_SETTINGS
def test_coverage_with_user_key(case: schemathesis.Case, app) -> None:  # type: ignore[no-untyped-def]
    _call_and_validate(case, app)


@admin_coverage.parametrize()
@_SETTINGS
def test_coverage_with_admin_key(case: schemathesis.Case, app) -> None:  # type: ignore[no-untyped-def]
    _call_and_validate(case, app)


@tenant_fuzz.parametrize()
@_SETTINGS
def test_fuzz_with_tenant_key_and_low_limits(case: schemathesis.Case, limited_app) -> None:  # type: ignore[no-untyped-def]
    TENANT_STATUSES[_call_and_validate(case, limited_app)] += 1


@tenant_coverage.parametrize()
@_SETTINGS
def test_coverage_with_tenant_key_and_low_limits(case: schemathesis.Case, limited_app) -> None:  # type: ignore[no-untyped-def]
    TENANT_STATUSES[_call_and_validate(case, limited_app)] += 1


def test_tenant_runs_met_their_403_and_429() -> None:
    """The tenant-key runs above are only worth their time if they got the answers they exist for."""
    # Fails, not skips, with no statuses: a tenant run that generated no case must not pass unnoticed.
    assert TENANT_STATUSES, "no tenant-key case ran: run this module whole, not this test alone"
    assert TENANT_STATUSES[403] > 0, TENANT_STATUSES
    assert TENANT_STATUSES[429] > 0, TENANT_STATUSES
    assert sum(n for status, n in TENANT_STATUSES.items() if status < 300) > 0, TENANT_STATUSES


# --- structured bodies for the Mem0-compatible routes ---------------------------------------------------

# Any text, NUL included (lone surrogates are replayed in test_fixed_bugs: st.text never draws them).
_text = st.text(st.characters(codec="utf-8"), max_size=40)
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False)
)
_json = st.recursive(
    _scalars | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_ids = st.from_regex(r"\Afuzz-[A-Za-z0-9_.:@-]{1,20}\Z")
_contents = st.sampled_from(["I love pho and ramen", "My name is Ada", "I'm good at Go", "ok thanks"]) | _text
_messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "user", "assistant", "system"]), "content": _contents}
    ),
    min_size=1,
    max_size=3,
)
_metadata = st.dictionaries(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,8}\Z"), _scalars | _text, max_size=3)
_scope = {
    "run_id": _ids,
    "filters": st.builds(lambda u: {"AND": [{"user_id": u}]}, _ids),
    "version": st.sampled_from(["v1", "v2"]),
    "async_mode": st.booleans(),
    "org_id": st.just("memcache-platform"),
}
_VALID = {
    "POST /v3/memories/add/": st.fixed_dictionaries(
        {"messages": _messages, "user_id": _ids}, optional=_scope | {"metadata": _metadata}
    ),
    "POST /v3/memories/search/": st.fixed_dictionaries(
        {
            "query": st.sampled_from(["pho", "what does the user like"]) | _text.filter(str.strip),
            "user_id": _ids,
        },
        optional=_scope
        | {"top_k": st.integers(1, 50), "threshold": st.floats(0, 1), "rerank": st.just(False)},
    ),
    "POST /v3/memories/": st.fixed_dictionaries({"user_id": _ids}, optional=_scope),
    "PUT /v1/memories/{memory_id}/": st.fixed_dictionaries(
        {"text": _contents.filter(str.strip)}, optional={"user_id": st.just("fuzz-compat")}
    ),
}
_OPTION_NAMES = [
    "user_id", "run_id", "filters", "messages", "metadata", "infer", "query", "top_k", "threshold", "text",
    "version", "async_mode", "org_id", "project_id", "agent_id", "enable_graph", "rerank", "page", "x",
]  # fmt: skip


def _perturbed(valid: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body half of the time; else the same body with one option (known or not) set to any JSON."""

    def build(body: dict[str, Any], key: str | None, value: Any) -> dict[str, Any]:
        return body if key is None else body | {key: value}

    return st.builds(build, valid, st.none() | st.sampled_from(_OPTION_NAMES), _json)


@pytest.mark.parametrize("label", sorted(_VALID))
def test_mem0_compatible_bodies(label: str, app, platform) -> None:  # type: ignore[no-untyped-def]
    method, path = label.split(" ", 1)
    operation = user_fuzz[path][method]
    (existing,) = platform.extraction.extract_facts(
        "fuzz-compat", [{"role": "user", "content": "I love plums"}]
    ).memories
    memory_ids = st.sampled_from([existing.id, "00000000-0000-4000-8000-000000000000"])

    @_SETTINGS
    @given(body=_perturbed(_VALID[label]), memory_id=memory_ids)
    def run(body: dict[str, Any], memory_id: str) -> None:
        path_parameters = {"memory_id": memory_id} if "{memory_id}" in path else None
        case = operation.Case(
            body=body, media_type="application/json", path_parameters=path_parameters, headers=_AUTH
        )
        _call_and_validate(case, app)

    run()


# --- bugs this fuzzing found, fixed: each replayed so that it stays fixed -------------------------


_SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() is True, int() refuses it
FIXED_BUGS = [
    pytest.param(
        "GET /v1/users/{user_id}/search",
        {"path_parameters": {"user_id": "fuzz-bug"}, "query": {"q": "pho", "limit": _SUPERSCRIPT_TWO}},
        id="search-limit-superscript",
    ),
    pytest.param(
        "GET /v1/stats/favorites",
        {"query": {"limit": _SUPERSCRIPT_TWO}},
        id="stats-limit-superscript",
    ),
    pytest.param(
        "POST /v3/memories/",
        {"query": {"page": _SUPERSCRIPT_TWO}, "body": {"user_id": "fuzz-bug"}},
        id="get-all-page-superscript",
    ),
    pytest.param(
        "POST /v3/memories/search/",
        {"body": {"user_id": "fuzz-bug", "query": "a\ud800b"}},
        id="compat-search-lone-surrogate",
    ),
    pytest.param(
        "POST /v1/users/{user_id}/memories",
        {
            "path_parameters": {"user_id": "fuzz-bug"},
            "body": {"messages": [{"role": "user", "content": "I love tea"}], "metadata": {"note": "a\x00b"}},
        },
        id="v1-add-metadata-nul",
    ),
    pytest.param(
        "POST /v1/users/{user_id}/memories",
        {
            "path_parameters": {"user_id": "fuzz-bug"},
            # Raw bytes: NaN is not JSON, but Python's json.loads (the app's parser) accepts it.
            "body": b'{"messages": [{"role": "user", "content": "I love tea"}], "metadata": {"note": NaN}}',
        },
        id="v1-add-metadata-nan",
    ),
    pytest.param(
        "POST /v3/memories/add/",
        {
            "body": {
                "user_id": "fuzz-bug",
                "messages": [{"role": "user", "content": "I love tea"}],
                "metadata": {"note": "a\x00b"},
            }
        },
        id="compat-add-metadata-nul",
    ),
    pytest.param(
        "PUT /v1/memories/{memory_id}/",
        {"body": {"text": "I love \ud800 soup"}, "existing_memory": True},
        id="compat-update-lone-surrogate",
    ),
    *[
        pytest.param(
            label,
            {"body": None, "media_type": "text/plain", "existing_memory": "{memory_id}" in label},
            id=f"undocumented-415-{label.split()[1].strip('/').replace('/', '-')}",
        )
        for label in sorted(_JSON_BODY_OPERATIONS)
    ],
]


@pytest.mark.parametrize(("label", "request_data"), FIXED_BUGS)
def test_fixed_bugs(label: str, request_data: dict[str, Any], app, platform) -> None:  # type: ignore[no-untyped-def]
    method, path = label.split(" ", 1)
    data = dict(request_data)
    path_parameters = data.pop("path_parameters", None)
    if data.pop("existing_memory", False):
        (memory,) = platform.extraction.extract_facts(
            "fuzz-bug", [{"role": "user", "content": "I love pho"}]
        ).memories
        path_parameters = {"memory_id": memory.id}
    media_type = data.pop("media_type", "application/json")
    body = data.pop("body", None)
    case = user_fuzz[path][method].Case(
        path_parameters=path_parameters,
        query=data.pop("query", None),
        body=body if body is not None else "not json",
        media_type=media_type,
        headers=_AUTH,
    )
    # Lone surrogates go out as JSON escapes ("\\ud800"), as any client's JSON encoder may send them.
    case.call_and_validate(app=app, checks=CHECKS)
