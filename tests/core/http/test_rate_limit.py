"""The client-side rate limiter: requests per second, shared per integration."""

from __future__ import annotations

import asyncio

import pytest

from leadbridge import ValidationError
from leadbridge.http import RateLimiter, RetryPolicy, create_client
from leadbridge.testing import OAuthTestServer, ScriptedResponse


def span(times: list[float]) -> float:
    return max(times) - min(times)


async def test_requests_are_spaced(oauth_server: OAuthTestServer) -> None:
    async with create_client(base_url=oauth_server.base_url, rate_limit=10) as client:
        await asyncio.gather(*(client.get("/open/limited") for _ in range(5)))
    assert oauth_server.hits["/open/limited"] == 5
    assert span(oauth_server.arrivals["/open/limited"]) >= 0.35  # 4 gaps of 0.1 s


async def test_one_limiter_is_shared_by_an_integrations_clients(
    oauth_server: OAuthTestServer,
) -> None:
    limiter = RateLimiter(10)
    async with (
        create_client(base_url=oauth_server.base_url, rate_limit=limiter) as first,
        create_client(base_url=oauth_server.base_url, rate_limit=limiter) as second,
    ):
        await asyncio.gather(
            *(client.get("/open/shared") for client in (first, second) for _ in range(3))
        )
    assert span(oauth_server.arrivals["/open/shared"]) >= 0.45  # 6 requests, 5 gaps


async def test_retries_wait_for_their_slot_too(oauth_server: OAuthTestServer) -> None:
    oauth_server.enqueue("/open/flaky", ScriptedResponse(503), ScriptedResponse(503))
    async with create_client(
        base_url=oauth_server.base_url, rate_limit=5, retries=RetryPolicy(backoff=0)
    ) as client:
        assert (await client.get("/open/flaky")).status_code == 200
    assert span(oauth_server.arrivals["/open/flaky"]) >= 0.35  # 3 attempts at 5 per second


def test_burst_then_steady_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = RateLimiter(5, burst=3)
    monkeypatch.setattr("leadbridge.http._transports.time.monotonic", lambda: 100.0)
    waits = []
    for _ in range(5):
        waits.append(round(max(0.0, limiter._delay(100.0) or 0.0), 3))
        limiter._next = max(limiter._next, 100.0) + 0.2
        limiter._in_flight += 1
    assert waits == [0.0, 0.0, 0.0, 0.2, 0.4]  # three at once, then one every 0.2 s


def test_a_full_window_waits_for_the_oldest_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five requests in flight: the sixth waits for an answer, then a window from it."""
    now = [100.0]
    monkeypatch.setattr("leadbridge.http._transports.time.monotonic", lambda: now[0])
    limiter = RateLimiter(5, burst=5, margin=0.02)
    limiter._in_flight = 5
    assert limiter._delay(now[0]) is None  # nothing answered yet: wait for an answer
    now[0] = 100.3
    limiter.release()
    assert limiter._delay(100.3) == pytest.approx(1.02)
    limiter.pause(3.0)
    assert limiter._delay(100.3) == pytest.approx(3.0)


def test_values_are_validated() -> None:
    with pytest.raises(ValidationError) as info:
        RateLimiter(0)
    assert info.value.field == "requests_per_second"
    with pytest.raises(ValidationError) as info:
        RateLimiter(5, burst=0)
    assert info.value.field == "burst"
