"""End to end: the real ``mem0.MemoryClient`` against the platform's Mem0-compatible API over real HTTP.

The app runs in a werkzeug server on a free local port, with the real Mem0 (L4), Redis, PostgreSQL
and the session's Celery worker; every answer the client gets is checked against the v1 API and L4.
"""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.conftest import API_KEY
from tests.support.metrics import sample

pytestmark = pytest.mark.integration

PHO = "My favourite food is pho and I'm good at Python"
MORE = ["My favourite drink is tea", "I'm good at Rust", "I live in Hanoi"]


@pytest.fixture(scope="module")
def host(platform):  # type: ignore[no-untyped-def]
    """The base URL of the app, with the Mem0-compatible blueprint, served over real HTTP."""
    from werkzeug.serving import make_server

    from memcache_platform.api import create_app, mem0_compat

    app = create_app()
    if "mem0_compat" not in app.blueprints:
        app.register_blueprint(mem0_compat.bp)
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the OS picks a free port
    thread = threading.Thread(target=server.serve_forever, name="mem0-compat-http", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def mem0(host):  # type: ignore[no-untyped-def]
    """The real client, imported after the platform set MEM0_TELEMETRY=False."""
    from mem0 import MemoryClient

    client = MemoryClient(api_key=API_KEY, host=host)  # the constructor pings /v1/ping/
    yield client
    client.client.close()


def _v1_list(client, auth, user_id):  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/users/{user_id}/memories", headers=auth)
    assert response.status_code == 200, response.json
    return {m["id"]: m for m in response.json["memories"]}


def _rebuilt(platform, user_id):  # type: ignore[no-untyped-def]
    """True once the worker's L3 build includes the user's latest write."""
    entry = platform.l3.get(user_id)
    return entry is not None and entry.built_from_watermark == platform.watermarks.current(user_id)


def test_a_whole_mem0_client_session(mem0, client, auth, user_id, platform, celery_worker, wait_for):
    from mem0.exceptions import MemoryNotFoundError

    # add: the rules extractor's facts, written to L4, rebuild handed off
    added = mem0.add(PHO, user_id=user_id)
    assert [(m["memory"], m["categories"], m["event"]) for m in added["results"]] == [
        ("Favourite food is pho", ["favorite"], "ADD"),
        ("Good at Python", ["skill"], "ADD"),
    ]
    assert added["cache"]["handoff"] == "queued"
    pho_id, python_id = (m["id"] for m in added["results"])
    l4 = {r.id: r for r in platform.mem0.get_all(user_id=user_id)}
    assert set(l4) == {pho_id, python_id}
    assert l4[pho_id].metadata["category"] == "favorite"
    assert set(_v1_list(client, auth, user_id)) == {pho_id, python_id}

    for text in MORE:  # enough memories for two pages of 3
        assert len(mem0.add(text, filters={"user_id": user_id})["results"]) == 1
    assert wait_for(lambda: _rebuilt(platform, user_id))

    # search: the same hits as the v1 API; repeated, it is answered from L2
    found = mem0.search("What food do I like?", filters={"user_id": user_id}, top_k=3)
    v1 = client.get(
        f"/v1/users/{user_id}/search", query_string={"q": "What food do I like?", "limit": 3}, headers=auth
    ).json
    assert [(h["id"], h["memory"], h["score"]) for h in found["results"]] == [
        (h["id"], h["memory"], h["score"]) for h in v1["results"]
    ]
    assert found["results"][0]["id"] == pho_id
    assert found["results"][0]["categories"] == ["favorite"]
    assert all(h["user_id"] == user_id for h in found["results"])
    hits = sample("memcache_cache_lookups_total", tier="L2", result="hit")
    again = mem0.search("What food do I like?", filters={"user_id": user_id}, top_k=3)
    assert again["tier"] == "L2"
    assert again["results"] == found["results"]
    assert sample("memcache_cache_lookups_total", tier="L2", result="hit") > hits

    # get_all: two pages of 3, the same memories as L4 and the v1 API, oldest first
    first = mem0.get_all(filters={"user_id": user_id}, page=1, page_size=3)
    second = mem0.get_all(filters={"user_id": user_id}, page=2, page_size=3)
    assert first["count"] == second["count"] == 5
    assert len(first["results"]) == 3 and len(second["results"]) == 2
    assert first["previous"] is None and first["next"].endswith("?page=2&page_size=3")
    assert second["next"] is None and second["previous"].endswith("?page=1&page_size=3")
    listed = first["results"] + second["results"]
    l4_records = platform.mem0.get_all(user_id=user_id)
    assert [(m["id"], m["memory"]) for m in listed] == [(r.id, r.memory) for r in l4_records]
    v1_listed = _v1_list(client, auth, user_id)
    assert {m["id"]: m["memory"] for m in listed} == {k: m["memory"] for k, m in v1_listed.items()}
    assert all(m["categories"] == [v1_listed[m["id"]]["category"]] for m in listed)

    # get
    memory = mem0.get(pho_id)
    assert memory["id"] == pho_id and memory["memory"] == "Favourite food is pho"
    assert memory["user_id"] == user_id and memory["categories"] == ["favorite"]
    assert memory["metadata"]["value"] == "pho"
    assert memory["created_at"] == platform.mem0.get(pho_id).created_at

    # update: L4 changes, the category is re-derived, and the rebuild shows it in the favourites
    updated = mem0.update(pho_id, text="My favourite food is ramen")
    assert updated["memory"] == "My favourite food is ramen"
    assert updated["metadata"]["value"] == "ramen"
    assert updated["cache"]["handoff"] in ("queued", "coalesced")
    assert platform.mem0.get(pho_id, user_id=user_id).memory == "My favourite food is ramen"
    assert _v1_list(client, auth, user_id)[pho_id]["memory"] == "My favourite food is ramen"
    assert wait_for(lambda: _rebuilt(platform, user_id))
    favorites = client.get(f"/v1/users/{user_id}/favorites", headers=auth).json
    assert favorites["favorites"]["food"] == ["ramen"]

    # history: Mem0's change log
    changes = mem0.history(pho_id)
    assert [c["event"] for c in changes] == ["ADD", "UPDATE"]
    assert (changes[-1]["old_memory"], changes[-1]["new_memory"]) == (
        "Favourite food is pho",
        "My favourite food is ramen",
    )

    # delete
    assert mem0.delete(python_id)["message"] == "Memory deleted successfully!"
    assert python_id not in {r.id for r in platform.mem0.get_all(user_id=user_id)}
    assert python_id not in _v1_list(client, auth, user_id)
    with pytest.raises(MemoryNotFoundError, match="memory_not_found"):
        mem0.get(python_id)

    # users
    users = mem0.users()
    assert {"id": user_id, "name": user_id, "type": "user"} in users["results"]
    assert [u["name"] for u in users["results"]] == platform.mem0.list_users()

    # delete_all, with filters (which the client sends as a query parameter)
    assert mem0.delete_all(filters={"user_id": user_id})["deleted"] == 4
    assert platform.mem0.get_all(user_id=user_id) == []
    assert _v1_list(client, auth, user_id) == {}


def test_a_wrong_key_fails_clearly(host, mem0, user_id):
    from mem0 import MemoryClient
    from mem0.exceptions import AuthenticationError

    with pytest.raises(ValueError, match="unauthorized: invalid API key"):
        MemoryClient(api_key="not-a-key", host=host)

    mem0.client.headers["Authorization"] = "Token not-a-key"
    with pytest.raises(AuthenticationError, match="unauthorized: invalid API key") as caught:
        mem0.search("food", filters={"user_id": user_id})
    assert caught.value.debug_info["status_code"] == 401


@pytest.mark.parametrize(
    ("call", "option"),
    [
        (lambda m, u: m.add(PHO, user_id=u, enable_graph=True), "enable_graph"),
        (lambda m, u: m.add(PHO, user_id=u, agent_id="bot"), "agent_id"),
        (lambda m, u: m.add(PHO, agent_id="bot", filters={"agent_id": "bot"}), "agent_id"),
        (lambda m, u: m.add(PHO, user_id=u, infer=True), "infer"),  # the extractor is "rules"
        (lambda m, u: m.add(PHO, user_id=u, custom_instructions="Only food"), "custom_instructions"),
        (lambda m, u: m.search("food", filters={"user_id": u}, rerank=True), "rerank"),
        (lambda m, u: m.search("food", filters={"user_id": u}, keyword_search=True), "keyword_search"),
        (lambda m, u: m.search("food", filters={"OR": [{"user_id": u}]}), "filters.OR"),
        (lambda m, u: m.get_all(filters={"user_id": u, "app_id": "shop"}), "filters.app_id"),
        (lambda m, u: m.get_all(filters={"user_id": u}, start_date="2024-01-01"), "start_date"),
    ],
)
def test_an_unsupported_option_fails_clearly(mem0, user_id, platform, call, option):
    from mem0.exceptions import ValidationError

    with pytest.raises(ValidationError, match=f"unsupported_option: option '{option}'") as caught:
        call(mem0, user_id)
    assert caught.value.details["error"]["details"] == {"option": option}
    assert platform.mem0.get_all(user_id=user_id) == []  # nothing was written


def test_harmless_options_are_accepted(mem0, user_id, platform):
    added = mem0.add(PHO, user_id=user_id, async_mode=False, version="v2", output_format="v1.1")
    assert len(added["results"]) == 2
    found = mem0.search("food", filters={"AND": [{"user_id": user_id}]}, rerank=False, latest_only=True)
    assert found["results"]
    assert mem0.delete(added["results"][0]["id"], delete_linked=True)["message"]


def test_calls_without_a_user_or_on_unserved_endpoints_fail_clearly(mem0, host):
    from mem0.exceptions import ValidationError

    with pytest.raises(ValidationError, match="missing_user_id"):
        mem0.delete_all()  # never "every memory of the platform"
    with pytest.raises(ValidationError, match="missing_user_id"):
        mem0.search("food")
    with pytest.raises(ValidationError, match="unsupported_endpoint"):
        mem0.get_summary(filters={"user_id": "someone"})  # POST /v1/summary/
    with pytest.raises(ValidationError, match="unsupported_endpoint"):
        mem0.create_memory_export(schema="{}", user_id="someone")  # POST /v1/exports/


def test_another_users_memory_answers_404(mem0, host, user_id, platform):
    pho_id = mem0.add(PHO, user_id=user_id)["results"][0]["id"]
    headers = {"Authorization": f"Token {API_KEY}"}
    with httpx.Client(base_url=host, headers=headers) as raw:
        assert raw.get(f"/v1/memories/{pho_id}/", params={"user_id": user_id}).status_code == 200
        for method in ("GET", "DELETE"):
            other = raw.request(method, f"/v1/memories/{pho_id}/", params={"user_id": "someone-else"})
            assert other.status_code == 404
            assert other.json()["error"]["code"] == "memory_not_found"
        put = raw.put(f"/v1/memories/{pho_id}/", json={"text": "Hacked", "user_id": "someone-else"})
        assert put.status_code == 404
    assert platform.mem0.get(pho_id, user_id=user_id).memory == "Favourite food is pho"


def test_openapi_paths_document_every_route_of_the_blueprint(platform):
    from memcache_platform.api import create_app, mem0_compat

    app = create_app()
    if "mem0_compat" not in app.blueprints:
        app.register_blueprint(mem0_compat.bp)
    from memcache_platform.api.openapi import document

    served = {
        (rule.rule.replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("mem0_compat.") and rule.endpoint != "mem0_compat.unserved"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    doc = document(app, platform.settings)
    documented = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if "mem0-compatible" in op["tags"]
    }
    assert served == documented
    assert len(documented) == 15  # the "not served here" endpoints are absent
    assert "mem0_token" in doc["components"]["securitySchemes"]


def test_tenant_key_cannot_reach_other_tenants_through_the_mem0_api(host, user_id, platform):
    """A key limited to ``acme-*`` users: 403 for other users' scopes, 404 for their memories by id."""
    import requests

    from tests.conftest import TENANT_KEY

    [other] = platform.mem0.add("Likes tea", user_id=user_id)
    headers = {"Authorization": f"Token {TENANT_KEY}"}
    search = requests.post(
        f"{host}/v3/memories/search/", json={"query": "tea", "filters": {"user_id": user_id}}, headers=headers
    )
    assert search.status_code == 403
    assert requests.get(f"{host}/v1/memories/{other.id}/", headers=headers).status_code == 404
    assert requests.delete(f"{host}/v1/memories/{other.id}/", headers=headers).status_code == 404
    assert platform.mem0.get(other.id).id == other.id
    users = requests.get(f"{host}/v1/entities/", headers=headers).json()
    assert user_id not in str(users)
