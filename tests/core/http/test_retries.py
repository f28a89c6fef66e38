"""Retries with backoff, Retry-After and idempotency, through create_client's transport."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from leadbridge import ValidationError
from leadbridge.http import (
    ApiCallCounter,
    FatalAPIError,
    RateLimitedError,
    RetriableAPIError,
    RetryPolicy,
    create_client,
    raise_for_status,
)
from leadbridge.testing import OAuthTestServer, ScriptedResponse

FAST = RetryPolicy(retries=3, backoff=0.01)


def client_for(
    server: OAuthTestServer, policy: RetryPolicy = FAST, **options: object
) -> httpx.AsyncClient:
    return create_client(base_url=server.base_url, retries=policy, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_are_retried(oauth_server: OAuthTestServer, status: int) -> None:
    oauth_server.enqueue("/open/flaky", ScriptedResponse(status), ScriptedResponse(status))
    counter = ApiCallCounter()
    async with client_for(oauth_server, counter=counter) as client:
        response = await client.get("/open/flaky")
    assert response.status_code == 200
    assert oauth_server.hits["/open/flaky"] == 3
    assert counter.count == 3  # every attempt that went on the wire


async def test_a_persisting_503_ends_in_a_retriable_error(oauth_server: OAuthTestServer) -> None:
    oauth_server.enqueue("/open/down", *[ScriptedResponse(503)] * 5)
    async with client_for(oauth_server) as client:
        response = await client.get("/open/down")
    assert oauth_server.hits["/open/down"] == 4  # 1 + 3 retries
    with pytest.raises(RetriableAPIError) as info:
        raise_for_status(response)
    assert info.value.status == 503


async def test_post_is_not_retried(oauth_server: OAuthTestServer) -> None:
    oauth_server.enqueue("/open/create", ScriptedResponse(503))
    async with client_for(oauth_server) as client:
        response = await client.post("/open/create", json={"a": 1})
    assert response.status_code == 503
    assert oauth_server.hits["/open/create"] == 1


async def test_post_marked_idempotent_is_retried_with_its_body(
    oauth_server: OAuthTestServer,
) -> None:
    oauth_server.enqueue("/open/upsert", ScriptedResponse(503))
    body = {"email": "ann@example.com"}
    async with client_for(oauth_server) as client:
        response = await client.post("/open/upsert", json=body, extensions={"idempotent": True})
    assert response.status_code == 200
    assert response.json()["size"] == len(response.request.content)  # the body was resent
    assert oauth_server.hits["/open/upsert"] == 2


async def test_get_marked_not_idempotent_is_not_retried(oauth_server: OAuthTestServer) -> None:
    oauth_server.enqueue("/open/once", ScriptedResponse(503))
    async with client_for(oauth_server) as client:
        response = await client.get("/open/once", extensions={"idempotent": False})
    assert response.status_code == 503 and oauth_server.hits["/open/once"] == 1


async def test_a_streamed_body_is_never_replayed(oauth_server: OAuthTestServer) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"part one,"
        yield b"part two"

    oauth_server.enqueue("/open/stream", ScriptedResponse(503))
    async with client_for(oauth_server) as client:
        response = await client.put("/open/stream", content=chunks())
    assert response.status_code == 503 and oauth_server.hits["/open/stream"] == 1


async def test_429_waits_for_retry_after_seconds(oauth_server: OAuthTestServer) -> None:
    oauth_server.enqueue("/open/busy", ScriptedResponse(429, headers={"Retry-After": "1"}))
    async with client_for(oauth_server) as client:
        started = time.monotonic()
        response = await client.post("/open/busy")  # 429: refused unprocessed, any method
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert oauth_server.hits["/open/busy"] == 2
    assert elapsed >= 0.9


async def test_429_waits_for_retry_after_http_date(oauth_server: OAuthTestServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    oauth_server.enqueue("/open/busy", ScriptedResponse(429, headers={"Retry-After": when}))
    async with client_for(oauth_server) as client:
        started = time.monotonic()
        response = await client.get("/open/busy")
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.9  # the date has whole seconds: between 1 and 2 s from now


async def test_429s_are_waited_out_beyond_the_retries(oauth_server: OAuthTestServer) -> None:
    too_many = ScriptedResponse(429, headers={"Retry-After": "0"})
    oauth_server.enqueue("/open/busy", *[too_many] * 8)
    async with client_for(oauth_server, RetryPolicy(retries=2, backoff=0.01)) as client:
        response = await client.get("/open/busy")
    assert response.status_code == 200
    assert oauth_server.hits["/open/busy"] == 9


async def test_429_past_the_budget_is_rate_limited_error(oauth_server: OAuthTestServer) -> None:
    too_many = ScriptedResponse(429, headers={"Retry-After": "0"})
    oauth_server.enqueue("/open/busy", *[too_many] * 8)
    policy = RetryPolicy(retries=2, backoff=0.01, rate_limit_budget=0.025)
    async with client_for(oauth_server, policy) as client:
        response = await client.get("/open/busy")
    assert oauth_server.hits["/open/busy"] == 3  # two waits of 0.01 s fit the budget
    with pytest.raises(RateLimitedError) as info:
        raise_for_status(response)
    assert (info.value.status, info.value.retry_after) == (429, 0.0)
    assert isinstance(info.value, RetriableAPIError)


async def test_a_long_retry_after_is_returned_at_once(oauth_server: OAuthTestServer) -> None:
    quota = ScriptedResponse(429, headers={"Retry-After": "86400"})
    oauth_server.enqueue("/open/quota", quota)
    async with client_for(oauth_server) as client:
        response = await client.get("/open/quota")
    assert oauth_server.hits["/open/quota"] == 1
    with pytest.raises(RateLimitedError) as info:
        raise_for_status(response)
    assert info.value.retry_after == 86400


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_errors_are_retried_then_retriable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counter = ApiCallCounter()
    url = f"http://127.0.0.1:{closed_port()}"
    async with create_client(
        base_url=url, retries=RetryPolicy(retries=2, backoff=0.01), counter=counter
    ) as client:
        with pytest.raises(RetriableAPIError, match="ConnectError") as info:
            await client.post("/things", json={})  # nothing was sent, so even POST retries
    assert info.value.status is None and info.value.method == "POST"
    assert "failed: ConnectError (attempt 3)" in caplog.text
    assert counter.count == 0  # the API never saw these


async def test_timeouts_are_retried_for_get_and_counted(oauth_server: OAuthTestServer) -> None:
    counter = ApiCallCounter()
    async with client_for(
        oauth_server, RetryPolicy(retries=1, backoff=0.01), timeout=0.3, counter=counter
    ) as client:
        with pytest.raises(RetriableAPIError, match="ReadTimeout"):
            await client.get("/open/slow", params={"delay": "1"})
    assert oauth_server.hits["/open/slow"] == 2
    assert counter.count == 2  # the requests reached the server


async def test_unsupported_scheme_is_fatal() -> None:
    async with create_client() as client:
        with pytest.raises(FatalAPIError, match="UnsupportedProtocol"):
            await client.get("ftp://example.com/file")


def test_policy_values_are_validated() -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(retries=-1)
    assert info.value.field == "retries"
    delays = [RetryPolicy(backoff=1, max_backoff=4).backoff_delay(n) for n in range(1, 6)]
    assert all(0.5 <= d <= 1 for d in delays[:1]) and all(2 <= d <= 4 for d in delays[3:])
