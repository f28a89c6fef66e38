"""Failed responses mapped into one hierarchy, with secrets masked; redact_url."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbridge import LeadBridgeError
from leadbridge.auth import APIKey, APIKeyQueryAuth
from leadbridge.http import (
    APIError,
    AuthenticationError,
    FatalAPIError,
    PermissionDeniedError,
    RateLimitedError,
    RetriableAPIError,
    RetryPolicy,
    create_client,
    raise_for_status,
    redact_url,
)
from leadbridge.testing import OAuthTestServer, ScriptedResponse

JSON_API = {"errors": [{"title": "Unprocessable", "detail": "email is invalid", "code": "bad"}]}


@pytest.mark.parametrize(
    ("status", "body", "expected", "message", "code"),
    [
        (401, {"errors": [{"detail": "expired"}]}, AuthenticationError, "expired", None),
        (403, {"message": "plan too small"}, PermissionDeniedError, "plan too small", None),
        (402, {"detail": "allowance reached"}, FatalAPIError, "allowance reached", None),
        (404, None, FatalAPIError, None, None),
        (409, {"error": {"message": "already registered", "code": 7}}, FatalAPIError,
         "already registered", "7"),
        (422, JSON_API, FatalAPIError, "email is invalid", "bad"),
        (429, {"message": "slow down"}, RateLimitedError, "slow down", None),
        (500, {"error": "server_error", "error_description": "boom"}, RetriableAPIError,
         "server_error: boom", "server_error"),
    ],
)  # fmt: skip
async def test_statuses_map_to_the_hierarchy(
    oauth_server: OAuthTestServer,
    status: int,
    body: Any,
    expected: type[APIError],
    message: str | None,
    code: str | None,
) -> None:
    oauth_server.enqueue("/open/thing", ScriptedResponse(status, body if body else {}))
    async with create_client(
        base_url=oauth_server.base_url, retries=RetryPolicy(retries=0, rate_limit_budget=0)
    ) as client:
        response = await client.delete("/open/thing", params={"force": "1"})
    with pytest.raises(expected) as info:
        raise_for_status(response)
    error = info.value
    assert type(error) is expected
    assert (error.status, error.method) == (status, "DELETE")
    assert error.url == f"{oauth_server.base_url}/open/thing?force=1"
    assert (error.server_message, error.server_code) == (message, code)
    assert str(error).startswith(f"DELETE {error.url} returned {status}")


def test_branches_say_what_to_do_next() -> None:
    assert issubclass(RateLimitedError, RetriableAPIError)
    assert issubclass(AuthenticationError, FatalAPIError)
    assert issubclass(PermissionDeniedError, FatalAPIError)
    for cls in (RetriableAPIError, FatalAPIError):
        assert issubclass(cls, APIError) and issubclass(cls, LeadBridgeError)
    assert len({cls.code for cls in (APIError, RetriableAPIError, RateLimitedError, FatalAPIError,
                                     AuthenticationError, PermissionDeniedError)}) == 6  # fmt: skip


async def test_success_passes_through(oauth_server: OAuthTestServer) -> None:
    async with create_client(base_url=oauth_server.base_url) as client:
        response = await client.get("/open/fine")
    assert raise_for_status(response) is response


async def test_a_secret_echoed_by_the_server_is_scrubbed(
    oauth_server: OAuthTestServer,
) -> None:
    key = oauth_server.api_key
    echo = ScriptedResponse(400, {"message": f"key {key} may not list contacts"})
    oauth_server.enqueue("/api/contacts", echo)
    auth = APIKeyQueryAuth(APIKey(key), param="auth_code")  # not a default secret name
    async with create_client(base_url=oauth_server.base_url, auth=auth) as client:
        response = await client.get("/api/contacts", params={"page": "3"})
    with pytest.raises(FatalAPIError) as info:
        raise_for_status(response)
    error = info.value
    assert error.url == f"{oauth_server.base_url}/api/contacts?page=3&auth_code=***"
    assert error.server_message == "key *** may not list contacts"
    for text in (str(error), repr(error), str(error.args)):
        assert key not in text


async def test_plain_text_bodies_are_quoted_and_html_is_not(
    oauth_server: OAuthTestServer,
) -> None:
    def plain(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.strip("/")
        content_type = {"text": "text/plain", "html": "application/octet-stream"}[kind]
        headers = {"content-type": content_type}
        return httpx.Response(502, text="  upstream\n down ", headers=headers)

    transport = httpx.MockTransport(plain)
    async with create_client(transport=transport, retries=RetryPolicy(retries=0)) as client:
        text, other = (
            await client.get("http://api.test/text"),
            await client.get("http://api.test/html"),
        )
    with pytest.raises(RetriableAPIError) as info:
        raise_for_status(text)
    assert info.value.server_message == "upstream down"
    with pytest.raises(RetriableAPIError) as info:
        raise_for_status(other)
    assert info.value.server_message is None


@pytest.mark.parametrize(
    ("url", "extra", "expected"),
    [
        ("https://api.example.com/v1?page=2&api_key=s3cr3t", (),
         "https://api.example.com/v1?page=2&api_key=***"),
        ("https://api.example.com/v1?API_KEY=s3cr3t&Token=t", (),
         "https://api.example.com/v1?API_KEY=***&Token=***"),
        ("https://api.example.com/v1?hapikey=a&x=b&x=c", (),
         "https://api.example.com/v1?hapikey=***&x=b&x=c"),
        ("https://api.example.com/v1?sess=abc&flag", ("sess",),
         "https://api.example.com/v1?sess=***&flag"),
        ("https://ann:pw@api.example.com/v1#frag", (), "https://ann:***@api.example.com/v1#frag"),
        ("https://api.example.com/v1?client%5Fsecret=x", (),
         "https://api.example.com/v1?client%5Fsecret=***"),
    ],
)  # fmt: skip
def test_redact_url(url: str, extra: tuple[str, ...], expected: str) -> None:
    assert redact_url(url, extra) == expected
    assert redact_url(httpx.URL(url), extra) == expected
