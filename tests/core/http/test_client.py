"""create_client: base URL, headers, hooks that read quota headers, counting, DEBUG logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from leadbridge.auth import APIKey, APIKeyQueryAuth
from leadbridge.http import ApiCallCounter, RetryPolicy, create_client, mark_secrets
from leadbridge.testing import OAuthTestServer, ScriptedResponse


async def test_hooks_read_quota_headers_and_the_counter_counts(
    oauth_server: OAuthTestServer,
) -> None:
    remaining: list[int] = []

    async def read_quota(response: httpx.Response) -> None:
        remaining.append(int(response.headers["RateLimit-Monthly-Remaining"]))

    oauth_server.enqueue("/open/b", ScriptedResponse(503))
    counter = ApiCallCounter()
    async with create_client(
        base_url=oauth_server.base_url,
        headers={"Accept": "application/vnd.api+json"},
        event_hooks={"response": [read_quota]},
        counter=counter,
        retries=RetryPolicy(backoff=0.01),
    ) as client:
        first = await client.get("/open/a")
        await client.get("/open/b")
    assert first.request.headers["accept"] == "application/vnd.api+json"
    assert len(remaining) == 2 and remaining[0] > remaining[1]  # one per send, after retries
    assert counter.count == 3  # but three requests went on the wire
    assert counter.reset() == 3 and counter.count == 0


async def test_each_attempt_is_logged_with_a_redacted_url(
    oauth_server: OAuthTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    oauth_server.enqueue("/api/x", ScriptedResponse(503))
    auth = APIKeyQueryAuth(APIKey(oauth_server.api_key), param="k")
    async with create_client(
        base_url=oauth_server.base_url, auth=auth, retries=RetryPolicy(backoff=0.01)
    ) as client:
        await client.get("/api/x", params={"page": "2"})
    lines = [r.getMessage() for r in caplog.records if r.name == "leadbridge.http"]
    url = f"{oauth_server.base_url}/api/x?page=2&k=***"
    assert f"GET {url} -> 503 (attempt 1)" in lines
    assert f"GET {url} -> 200 (attempt 2)" in lines
    assert any(line.startswith(f"retrying GET {url} in ") for line in lines)
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "leadbridge.http")


async def test_extra_secret_params_and_marked_requests_are_masked(
    oauth_server: OAuthTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def mark(request: httpx.Request) -> None:
        mark_secrets(request, params=["sid"])

    async with create_client(
        base_url=oauth_server.base_url,
        secret_params=["session_key"],
        event_hooks={"request": [mark]},
    ) as client:
        await client.get("/open/p", params={"session_key": "abc123", "sid": "def456", "q": "x"})
    assert "session_key=***&sid=***&q=x" in caplog.text
    assert "abc123" not in caplog.text and "def456" not in caplog.text


async def test_httpx_own_request_log_shows_no_query_values(
    oauth_server: OAuthTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with create_client(base_url=oauth_server.base_url) as client:
        await client.get("/open/q", params={"custom_secret_name": "zz-top-secret"})
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    # httpx cannot know which parameter holds a key, so it shows none of their values.
    assert any("custom_secret_name=***" in line for line in httpx_lines)
    assert not any("zz-top-secret" in line for line in httpx_lines)


async def test_redirects_are_not_followed(oauth_server: OAuthTestServer) -> None:
    moved = ScriptedResponse(302, headers={"Location": "http://elsewhere.test/"})
    oauth_server.enqueue("/open/moved", moved)
    async with create_client(base_url=oauth_server.base_url) as client:
        assert (await client.get("/open/moved")).status_code == 302
