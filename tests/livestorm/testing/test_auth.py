"""Auth as the real API does it: a raw token; Bearer only for OAuth access tokens."""

from __future__ import annotations

import httpx
import pytest

from leadbridge_livestorm import ApiError
from leadbridge_livestorm.testing import DEFAULT_TOKEN, FakeLivestorm


def _get(fake: FakeLivestorm, path: str, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return httpx.get(fake.url(path), headers=headers)


def test_the_raw_token_is_accepted(fake: FakeLivestorm) -> None:
    assert _get(fake, "/events", DEFAULT_TOKEN).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "", "wrong-token", f"Bearer {DEFAULT_TOKEN}", f"bearer {DEFAULT_TOKEN}"],
)
def test_refused_credentials_get_401_with_livestorms_error_body(
    fake: FakeLivestorm, authorization: str | None
) -> None:
    response = _get(fake, "/events", authorization)

    assert response.status_code == 401
    body = response.json()
    assert list(body) == ["errors"]
    (error,) = body["errors"]
    assert set(error) == {"title", "detail", "code", "status"}
    assert error["title"] == "Unauthorized"
    assert error["status"] == "unauthorized"
    assert error["code"] == ""
    assert error["detail"]
    assert DEFAULT_TOKEN not in response.text
    assert ApiError.parse_all(body)[0].status == "unauthorized"


def test_bearer_works_only_for_an_oauth_access_token(fresh_fake: FakeLivestorm) -> None:
    fresh_fake.add_oauth_token("oauth-access-1")

    assert _get(fresh_fake, "/events", "Bearer oauth-access-1").status_code == 200
    assert _get(fresh_fake, "/events", "oauth-access-1").status_code == 401


def test_a_revoked_token_gets_401(fresh_fake: FakeLivestorm) -> None:
    assert _get(fresh_fake, "/ping", DEFAULT_TOKEN).status_code == 200

    fresh_fake.revoke_token()

    assert _get(fresh_fake, "/ping", DEFAULT_TOKEN).status_code == 401


def test_a_missing_scope_is_a_403(fresh_fake: FakeLivestorm) -> None:
    fresh_fake.add_token("reader", scopes={"events": "read", "identity": "read"})
    session_id = next(iter(fresh_fake.workspace.sessions))
    register = {"data": {"type": "people", "attributes": {"fields": []}}}

    listed = _get(fresh_fake, "/events", "reader")
    organization = _get(fresh_fake, "/organization", "reader")
    hooks = _get(fresh_fake, "/webhooks", "reader")
    write = httpx.post(
        fresh_fake.url(f"/sessions/{session_id}/people"),
        json=register,
        headers={"Authorization": "reader"},
    )

    assert (listed.status_code, organization.status_code) == (200, 200)
    assert hooks.status_code == 403
    assert hooks.json()["errors"][0]["status"] == "forbidden"
    assert write.status_code == 403
    assert "events scope (write)" in write.json()["errors"][0]["detail"]


def test_refused_requests_are_logged_but_cost_no_quota(fresh_fake: FakeLivestorm) -> None:
    before = fresh_fake.monthly_remaining

    _get(fresh_fake, "/events", "wrong")

    assert fresh_fake.calls == [("GET", "/events")]
    assert fresh_fake.requests[0].status == 401
    assert fresh_fake.monthly_remaining == before
