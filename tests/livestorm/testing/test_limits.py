"""RateLimit-* headers, the burst limit, the monthly quota, injected faults."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from leadbridge_livestorm.testing import FakeLivestorm, generate_workspace

RATE_HEADERS = (
    "RateLimit-Monthly-Limit",
    "RateLimit-Monthly-Remaining",
    "RateLimit-Interval-Limit",
    "RateLimit-Interval-Remaining",
)


@pytest.fixture
def limited() -> Iterator[FakeLivestorm]:
    # A long window makes the burst deterministic however slow the machine is.
    with FakeLivestorm(generate_workspace(seed=2, people=10), rate_limit=3, rate_window=60) as fake:
        yield fake


def _client(fake: FakeLivestorm) -> httpx.Client:
    return httpx.Client(base_url=fake.base_url, headers=fake.auth_headers)


def test_every_response_carries_the_rate_headers(fresh_fake: FakeLivestorm) -> None:
    with _client(fresh_fake) as client:
        responses = [
            client.get("/ping"),
            client.get("/events"),
            client.get("/events/nope"),
            client.get("/events", headers={"Authorization": "wrong"}),
            client.get("/people", params={"page[size]": 99}),
        ]

    for response in responses:
        assert all(name in response.headers for name in RATE_HEADERS), response.status_code
    remaining = [int(r.headers["RateLimit-Monthly-Remaining"]) for r in responses]
    assert remaining[:3] == [9999, 9998, 9997]
    assert responses[0].headers["RateLimit-Monthly-Limit"] == "10000"


def test_a_burst_over_the_limit_gets_429_with_retry_after(limited: FakeLivestorm) -> None:
    with _client(limited) as client:
        answers = [client.get("/ping") for _ in range(5)]

    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert [r.headers["RateLimit-Interval-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
    throttled = answers[3]
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["RateLimit-Reset"] == str(limited.quota_reset_at)
    assert throttled.json()["errors"][0]["status"] == "too_many_requests"
    assert limited.monthly_remaining == limited.monthly_limit - 3


def test_the_burst_limit_can_be_turned_off(limited: FakeLivestorm) -> None:
    limited.rate_limit = None

    with _client(limited) as client:
        statuses = {client.get("/ping").status_code for _ in range(10)}

    assert statuses == {200}


def test_an_exhausted_monthly_quota_gets_429_until_refilled(fresh_fake: FakeLivestorm) -> None:
    fresh_fake.monthly_remaining = 2

    with _client(fresh_fake) as client:
        answers = [client.get("/ping") for _ in range(3)]
        fresh_fake.reset_quota()
        after = client.get("/ping")

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["RateLimit-Monthly-Remaining"] for r in answers] == ["1", "0", "0"]
    reset_at = int(answers[2].headers["RateLimit-Reset"])
    assert reset_at == fresh_fake.quota_reset_at > fresh_fake.clock
    assert int(answers[2].headers["Retry-After"]) == reset_at - fresh_fake.clock
    assert "monthly quota" in answers[2].json()["errors"][0]["detail"]
    assert after.status_code == 200


def test_throttle_next_forces_429s(fresh_fake: FakeLivestorm) -> None:
    fresh_fake.throttle_next(2, retry_after=3)

    with _client(fresh_fake) as client:
        answers = [client.get("/events") for _ in range(3)]

    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"


def test_fail_next_matches_method_and_path(fresh_fake: FakeLivestorm) -> None:
    session_id = next(iter(fresh_fake.workspace.sessions))
    fresh_fake.fail_next(1, 503, method="GET", path="/sessions/*/people")
    fresh_fake.fail_next(1, 402, path="/sessions/*/people/bulk", detail="Allowance reached")

    with _client(fresh_fake) as client:
        other = client.get("/events")
        failed = client.get(f"/sessions/{session_id}/people")
        again = client.get(f"/sessions/{session_id}/people")
        bulk = client.post(
            f"/sessions/{session_id}/people/bulk",
            json={"data": {"type": "jobs", "attributes": {"tasks": []}}},
        )

    assert (other.status_code, failed.status_code, again.status_code) == (200, 503, 200)
    assert failed.json()["errors"][0]["status"] == "service_unavailable"
    assert bulk.status_code == 402
    assert bulk.json()["errors"][0] == {
        "title": "Payment Required",
        "detail": "Allowance reached",
        "code": "",
        "status": "payment_required",
    }


def test_calls_are_counted_and_reset(fresh_fake: FakeLivestorm) -> None:
    with _client(fresh_fake) as client:
        client.get("/events", params={"page[size]": 50})
        client.get("/ping")
        client.get("/events")

    assert fresh_fake.calls == [("GET", "/events"), ("GET", "/ping"), ("GET", "/events")]
    assert fresh_fake.call_count("GET", "/events") == 2
    assert fresh_fake.requests[0].params == {"page[size]": "50"}
    fresh_fake.reset_calls()
    assert fresh_fake.calls == []
    assert fresh_fake.call_count() == 0
