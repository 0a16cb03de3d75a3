"""Health, readiness and the OpenAPI document."""

import pytest

from memcache_platform.tiers.redis_client import breaker_of

pytestmark = pytest.mark.integration


def test_healthz_needs_no_key(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_reports_each_dependency_without_secrets(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"mem0", "redis", "l3_database", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "redis://" not in response.get_data(as_text=True)
    assert "postgresql://" not in response.get_data(as_text=True)


def test_readyz_degraded_when_a_cache_is_down(platform, redis_server, client, wait_for):
    redis_server.stop()
    try:
        body = client.get("/readyz").json
    finally:
        redis_server.start()
        breaker = breaker_of(platform.redis)  # refused: the breaker opened; later tests need Redis
        assert wait_for(lambda: not breaker.is_open, timeout=10)
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["mem0"]["ok"] is True


def test_openapi_lists_every_route(app, client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, ops in document["paths"].items()
        for method in ops
        if method != "parameters"
    }
    served = set()
    for rule in app.url_map.iter_rules():
        # The Mem0 endpoints not served here answer 400 unsupported_endpoint and stay out of the document.
        if rule.endpoint in ("static", "mem0_compat.unserved"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
    assert not any(path.startswith(("/v1/exports", "/v1/summary")) for path, _ in documented)  # not served
    assert {("/v1/batch/", "PUT"), ("/v1/feedback/", "POST")} <= documented  # served, so documented


def test_openapi_refuses_a_route_without_a_contract(app):
    """A route served without ``@operation`` (or ``@undocumented``) cannot be left out silently."""
    from flask import Flask

    from memcache_platform.api.openapi import document

    bare = Flask(__name__)
    bare.add_url_rule("/v1/new", "new", lambda: "")
    with pytest.raises(LookupError, match="/v1/new"):
        document(bare, app.extensions["memcache"].settings)
