"""API keys limited to a tenant (a user-id prefix) or a set of users never reach other users."""

import uuid

import pytest

from tests.conftest import ADMIN_KEY, API_KEY, PAIR_KEY, TENANT_KEY

pytestmark = pytest.mark.integration
BODY = {"messages": [{"role": "user", "content": "I love tea"}]}


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def acme_user() -> str:
    return f"acme-{uuid.uuid4().hex[:8]}"


def test_tenant_key_reaches_its_own_users(client, acme_user):
    assert (
        client.post(f"/v1/users/{acme_user}/memories", json=BODY, headers=_h(TENANT_KEY)).status_code == 201
    )
    assert client.get(f"/v1/users/{acme_user}/memories", headers=_h(TENANT_KEY)).json["count"] == 1
    assert client.get(f"/v1/users/{acme_user}/favorites", headers=_h(TENANT_KEY)).status_code == 200
    assert client.get(f"/v1/users/{acme_user}/search?q=tea", headers=_h(TENANT_KEY)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/users/{u}/memories"),
        ("get", "/v1/users/{u}/memories"),
        ("delete", "/v1/users/{u}/memories/00000000-0000-4000-8000-000000000000"),
        ("get", "/v1/users/{u}/favorites"),
        ("get", "/v1/users/{u}/search?q=tea"),
        ("get", "/v1/users/{u}/cache"),
        ("post", "/v1/users/{u}/cache/warm"),
    ],
)
def test_tenant_key_never_reaches_another_tenants_user(client, user_id, method, path):
    kwargs = {"json": BODY} if method == "post" else {}
    response = getattr(client, method)(path.format(u=user_id), headers=_h(TENANT_KEY), **kwargs)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_other_tenants_data_stays_untouched(client, user_id, platform):
    assert client.post(f"/v1/users/{user_id}/memories", json=BODY, headers=_h(API_KEY)).status_code == 201
    client.post(f"/v1/users/{user_id}/memories", json=BODY, headers=_h(TENANT_KEY))
    assert len(platform.mem0.get_all(user_id=user_id)) == 1


def test_key_for_a_set_of_users(client):
    assert client.get("/v1/users/alice/favorites", headers=_h(PAIR_KEY)).status_code == 200
    assert client.get("/v1/users/bob/favorites", headers=_h(PAIR_KEY)).status_code == 200
    assert client.get("/v1/users/alice2/favorites", headers=_h(PAIR_KEY)).status_code == 403
    assert client.get("/v1/users/carol/favorites", headers=_h(PAIR_KEY)).status_code == 403


@pytest.mark.parametrize("path", ["/v1/stats/favorites", "/v1/tasks/00000000-0000-4000-8000-000000000000"])
def test_cross_user_routes_refuse_tenant_keys(client, path):
    assert client.get(path, headers=_h(TENANT_KEY)).status_code == 403
    assert client.get(path, headers=_h(API_KEY)).status_code == 200


def test_admin_routes_refuse_tenant_and_plain_keys(client):
    for key in (TENANT_KEY, API_KEY):
        assert client.post("/v1/cache/warm-all", headers=_h(key)).status_code == 403
    assert client.post("/v1/cache/warm-all", headers=_h(ADMIN_KEY)).status_code == 202


def test_prefix_is_not_a_substring_match(client):
    assert client.get("/v1/users/xacme-1/favorites", headers=_h(TENANT_KEY)).status_code == 403
