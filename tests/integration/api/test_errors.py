"""Bad input answers 4xx in the JSON error shape, and nothing already written is lost."""

import pytest

pytestmark = pytest.mark.integration

URL = "/v1/users/{}/memories"
GOOD = {"messages": [{"role": "user", "content": "I love sushi"}]}


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    assert set(response.json) == {"error"}
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "invalid_body"),
        ({"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "malformed_json"),
        ({"json": {}}, 400, "invalid_body"),
        ({"json": {"messages": []}}, 400, "invalid_body"),
        ({"json": {"messages": [{"role": "user"}]}}, 400, "invalid_body"),
        ({"json": {"messages": [{"role": "robot", "content": "hi there"}]}}, 400, "invalid_body"),
        ({"json": {"messages": [{"role": "user", "content": 42}]}}, 400, "invalid_body"),
        ({"json": GOOD | {"unexpected": 1}}, 400, "invalid_body"),
        ({"json": GOOD | {"metadata": {"user_id": "mallory"}}}, 400, "invalid_body"),
        ({"json": GOOD | {"metadata": {"nested": {"a": 1}}}}, 400, "invalid_body"),
        ({"json": GOOD | {"session_id": "no spaces allowed"}}, 400, "invalid_body"),
        ({"json": {"messages": [{"role": "user", "content": "x" * 4001}]}}, 400, "invalid_body"),
        ({"json": {"messages": [{"role": "user", "content": "I love tea"}] * 51}}, 400, "invalid_body"),
        ({"data": "x" * (64 * 1024 + 1), "content_type": "application/json"}, 413, "payload_too_large"),
        (
            {"data": "messages=hi", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ({"data": '{"messages": []}'}, 415, "unsupported_media_type"),
    ],
)
def test_bad_bodies(client, auth, user_id, kwargs, status, code):
    _assert_error(client.post(URL.format(user_id), headers=auth, **kwargs), status, code)


@pytest.mark.parametrize("bad_user", ["a" * 129, "has space", "semi;colon", "ünïcode", "{tag}", "b%25c"])
def test_bad_user_id(client, auth, bad_user):
    _assert_error(client.post(URL.format(bad_user), json=GOOD, headers=auth), 400, "invalid_user_id")
    _assert_error(client.get(f"/v1/users/{bad_user}/favorites", headers=auth), 400, "invalid_user_id")


def test_bad_memory_id(client, auth, user_id):
    _assert_error(
        client.delete(f"/v1/users/{user_id}/memories/not-a-uuid", headers=auth), 400, "invalid_memory_id"
    )


def test_unknown_route_and_wrong_method(client, auth):
    _assert_error(client.get("/v1/nothing-here", headers=auth), 404, "not_found")
    response = client.put("/v1/users/alice/memories", json=GOOD, headers=auth)
    _assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong-key", "Basic dGVzdDp0ZXN0", "test-key"])
def test_missing_or_wrong_key_is_401(client, user_id, header):
    headers = {"Authorization": header} if header else {}
    _assert_error(client.post(URL.format(user_id), json=GOOD, headers=headers), 401, "unauthorized")
    _assert_error(client.get(f"/v1/users/{user_id}/favorites", headers=headers), 401, "unauthorized")


def test_bad_request_loses_nothing_already_written(client, auth, user_id, platform):
    assert client.post(URL.format(user_id), json=GOOD, headers=auth).status_code == 201
    client.post(URL.format(user_id), data="{broken", content_type="application/json", headers=auth)
    client.post(URL.format(user_id), json={"messages": []}, headers=auth)
    assert [r.memory for r in platform.mem0.get_all(user_id=user_id)] == ["Likes sushi"]
