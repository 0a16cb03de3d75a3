"""Rate limits per API key: a clear 429 with Retry-After; other keys unaffected; Redis down fails open."""

import pytest

from tests.conftest import API_KEY, RATE_KEY

pytestmark = pytest.mark.integration
BODY = {"messages": [{"role": "user", "content": "I love tea"}]}


@pytest.fixture
def low_limits(platform, monkeypatch):
    monkeypatch.setattr(platform.settings, "rate_limit_writes", "3/minute")
    monkeypatch.setattr(platform.settings, "rate_limit_searches", "2/minute")


def test_writes_over_the_limit_get_429_with_retry_after(client, user_id, low_limits, platform):
    headers = {"Authorization": f"Bearer {RATE_KEY}"}
    codes = [
        client.post(f"/v1/users/{user_id}/memories", json=BODY, headers=headers).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 201]
    refused = client.post(f"/v1/users/{user_id}/memories", json=BODY, headers=headers)
    assert refused.status_code == 429
    assert refused.is_json
    assert refused.json["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert len(platform.mem0.get_all(user_id=user_id)) == 3  # the refused write did not happen
    # Another key has its own budget.
    other = client.post(
        f"/v1/users/{user_id}/memories", json=BODY, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert other.status_code == 201


def test_searches_have_their_own_limit(client, user_id, low_limits):
    headers = {"Authorization": f"Bearer {RATE_KEY}"}
    codes = [client.get(f"/v1/users/{user_id}/search?q=tea", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # a budget apart from the writes this key made
