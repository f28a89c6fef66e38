"""LivestormClient against the fake Livestorm over real HTTP: paging, filters, auth, errors,
429s, the quota reserve."""

from __future__ import annotations

import asyncio
import http.server
import json
import math
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadbridge._errors import ConfigurationError, ConflictError, NotFoundError
from leadbridge.auth import BearerTokenAuth, StaticToken
from leadbridge.http import (
    ApiCallCounter,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    RetriableAPIError,
    RetryPolicy,
)
from leadbridge_livestorm import (
    AlreadyRegisteredError,
    ContactsAllowanceReachedError,
    LivestormAuthenticationError,
    LivestormClient,
    LivestormInvalidResponseError,
    LivestormNotFoundError,
    LivestormPermissionError,
    LivestormUnavailableError,
    LivestormValidationError,
    PersonRecord,
    QuotaReserveReachedError,
    QuotaState,
    Registrant,
)
from leadbridge_livestorm.testing import BodyFault, FakeLivestorm, Workspace, generate_workspace

from .conftest import make_client


def _people_calls(fake: FakeLivestorm, session_id: str) -> list[dict[str, str]]:
    return [
        r.params
        for r in fake.requests
        if r.method == "GET" and r.path == f"/sessions/{session_id}/people"
    ]


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real transport, keeping the Authorization header of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.authorizations: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.authorizations.append(request.headers.get("authorization"))
        return await super().handle_async_request(request)


# -- paging -----------------------------------------------------------------------------------


async def test_a_walk_reads_every_person_with_one_call_per_page_and_no_more(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = next(iter(workspace.sessions.values()))
    expected = set(session.registrations)

    people = await livestorm.session_people(session.id).all()

    calls = _people_calls(fake, session.id)
    assert {p.id for p in people} == expected and len(people) == len(expected)
    assert len(calls) == math.ceil(len(expected) / 50) == 2
    assert [c["page[number]"] for c in calls] == ["0", "1"]
    assert {c["page[size]"] for c in calls} == {"50"}
    assert fake.calls == [("GET", f"/sessions/{session.id}/people")] * 2
    assert all(p.registrant_detail and p.registrant_detail.session_id == session.id for p in people)


@pytest.mark.parametrize(("registrants", "pages"), [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2)])
async def test_page_boundaries_never_cost_a_call_past_the_end(registrants: int, pages: int) -> None:
    workspace = Workspace()
    event = workspace.add_event("Boundaries")
    session = workspace.add_session(event.id)
    for i in range(registrants):
        workspace.register(session.id, f"p{i}@example.com")
    with FakeLivestorm(workspace, rate_limit=None) as fake:
        async with make_client(fake) as client:
            people = await client.session_people(session.id).all()

    assert len(people) == registrants
    assert len(fake.calls) == pages
    assert all(r.status == 200 for r in fake.requests)  # never the 400 of a page past the end


async def test_pages_resume_from_a_page_number(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = next(iter(workspace.sessions.values()))
    everyone = await livestorm.session_people(session.id).all()
    fake.reset_calls()

    pages = [page async for page in livestorm.session_people(session.id).pages(start=1)]

    assert [p.meta.current_page for p in pages] == [1]
    assert [p.id for p in pages[0].items] == [p.id for p in everyone[50:]]
    assert len(fake.calls) == 1


async def test_filters_are_sent_as_livestorm_filters_and_honoured(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    event = next(iter(workspace.events.values()))
    session = workspace.sessions[event.session_ids[0]]
    some = next(r for r in session.registrations.values() if r.person.email)
    since = datetime(2025, 6, 1, tzinfo=UTC)

    sessions = await livestorm.sessions(event.id, updated_since=since, status="past").all()
    attended = await livestorm.session_people(session.id, attended=True, role="participant").all()
    by_email = await livestorm.session_people(session.id, email=some.person.email).all()
    events = await livestorm.events(updated_since=1_700_000_000, title="product").all()

    params = [r.params for r in fake.requests]
    assert params[0]["filter[updated_since]"] == str(int(since.timestamp()))
    assert params[0]["filter[status]"] == "past"
    assert fake.requests[0].path == f"/events/{event.id}/sessions"
    assert (params[1]["filter[attended]"], params[1]["filter[role]"]) == ("true", "participant")
    assert params[2]["filter[email]"] == some.person.email
    assert params[3]["filter[updated_since]"] == "1700000000"
    assert params[3]["filter[title]"] == "product"
    assert {s.id for s in sessions} == {
        sid
        for sid in event.session_ids
        if workspace.sessions[sid].status == "past"
        and workspace.sessions[sid].updated_at >= since.timestamp()
    }
    assert attended and all(p.registrant_detail and p.registrant_detail.attended for p in attended)
    assert all(p.role == "participant" for p in attended)
    assert [p.id for p in by_email] == [some.person.id]
    assert [e.title for e in events] == [
        e.title for e in workspace.events.values() if "Product" in e.title
    ]


async def test_single_resources_and_the_workspace_lists(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    event = next(iter(workspace.events.values()))
    person = next(p for p in workspace.people.values() if p.email)

    org = await livestorm.organization()
    got_event = await livestorm.event(event.id)
    session = await livestorm.session(event.session_ids[0])
    everyone = await livestorm.people().all()
    one = await livestorm.person(person.id)
    all_sessions = await livestorm.sessions().all()
    event_people = await livestorm.event_people(event.id, role="team_member").all()

    assert org.name == workspace.organization.name
    assert got_event.title == event.title and got_event.session_ids == tuple(event.session_ids)
    assert session.event_id == event.id
    assert len(everyone) == len(workspace.people)
    assert one.email == person.email
    assert len(all_sessions) == len(workspace.sessions)
    assert {p.role for p in event_people} == {"team_member"}


# -- auth -------------------------------------------------------------------------------------


async def test_the_token_goes_raw_in_authorization_without_bearer(fake: FakeLivestorm) -> None:
    recorder = RecordingTransport()
    async with make_client(fake, transport=recorder) as client:
        await client.ping()

    assert recorder.authorizations == [fake.token]
    assert fake.requests[0].status == 200


async def test_an_oauth_access_token_goes_as_bearer(fake: FakeLivestorm) -> None:
    fake.add_oauth_token("partner-access-token")
    recorder = RecordingTransport()
    auth = BearerTokenAuth(StaticToken("partner-access-token"))
    async with make_client(fake, api_token=None, auth=auth, transport=recorder) as client:
        await client.ping()

    assert recorder.authorizations == ["Bearer partner-access-token"]


def test_construction_refuses_ambiguous_or_prefixed_credentials() -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        LivestormClient()
    with pytest.raises(ConfigurationError, match="without 'Bearer '"):
        LivestormClient(api_token="Bearer secret-token-123")
    with pytest.raises(ConfigurationError, match="empty"):
        LivestormClient(api_token="  ")


async def test_the_token_never_shows_in_a_repr_or_an_error(fake: FakeLivestorm) -> None:
    secret = "sk-very-secret-livestorm-token"
    async with make_client(fake, api_token=secret) as client:
        with pytest.raises(LivestormAuthenticationError) as caught:
            await client.ping()

    assert secret not in repr(client)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in (caught.value.server_message or "")


# -- errors -----------------------------------------------------------------------------------


async def test_401_says_the_token_is_invalid_or_lacks_a_scope(fake: FakeLivestorm) -> None:
    fake.revoke_token()
    async with make_client(fake) as client:
        with pytest.raises(LivestormAuthenticationError) as caught:
            await client.events().all()

    error = caught.value
    assert isinstance(error, AuthenticationError)
    assert error.status == 401
    assert "the Livestorm API token is invalid or lacks a scope" in str(error)
    assert "Invalid API token" in str(error)  # Livestorm's own detail
    assert len(fake.calls) == 1  # a 401 is not retried


async def test_402_says_the_contacts_allowance_is_reached(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session_id = next(iter(workspace.sessions))
    fake.fail_next(1, 402, method="POST", path="/sessions/*/people", detail="Plan limit")

    with pytest.raises(ContactsAllowanceReachedError) as caught:
        await livestorm.register(session_id, {"email": "new@example.com"})

    assert "the Livestorm workspace reached its active-contacts allowance" in str(caught.value)
    assert caught.value.status == 402


async def test_403_says_the_scope_is_not_granted(fake: FakeLivestorm) -> None:
    fake.add_token("read-only-token", scopes={"events": "read"})
    async with make_client(fake, api_token="read-only-token") as client:
        sessions = await client.sessions().all()
        with pytest.raises(LivestormPermissionError) as caught:
            await client.create_webhook("people.attended", "https://hooks.test/x")

    assert sessions
    assert isinstance(caught.value, PermissionDeniedError)
    assert "scope is not granted" in str(caught.value)
    assert "webhooks scope" in str(caught.value)


async def test_404_names_the_missing_resource(livestorm: LivestormClient) -> None:
    with pytest.raises(LivestormNotFoundError) as caught:
        await livestorm.session("0000-missing")
    with pytest.raises(NotFoundError):
        await livestorm.session_people("0000-missing").all()

    assert "Livestorm has no session 0000-missing" in str(caught.value)


async def test_409_on_register_is_already_registered(
    livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = next(iter(workspace.sessions.values()))
    registered = next(r.person for r in session.registrations.values() if r.person.email)

    with pytest.raises(AlreadyRegisteredError) as caught:
        await livestorm.register(session.id, {"email": registered.email})

    error = caught.value
    assert isinstance(error, ConflictError)
    assert (error.status, error.session_id, error.email) == (409, session.id, registered.email)
    assert "already registered" in str(error)


async def test_422_carries_livestorms_detail(
    livestorm: LivestormClient, workspace: Workspace
) -> None:
    session_id = next(iter(workspace.sessions))

    with pytest.raises(LivestormValidationError) as caught:
        await livestorm.register(session_id, {"email": "a@example.com", "shoe_size": "42"})

    assert "Livestorm refused the data" in str(caught.value)
    assert "'shoe_size' is not in the event's registration form" in str(caught.value)


async def test_5xx_is_retried_then_reported_as_unavailable(fake: FakeLivestorm) -> None:
    counter = ApiCallCounter()
    async with make_client(fake, counter=counter) as client:
        fake.fail_next(2, 503)
        await client.ping()  # two 503s, then the answer
        fake.fail_next(10, 502)
        with pytest.raises(LivestormUnavailableError) as caught:
            await client.ping()

    assert isinstance(caught.value, RetriableAPIError)
    assert "Livestorm is unavailable" in str(caught.value)
    assert counter.count == 3 + 4  # every attempt reached the wire


# -- 429 and the burst limit ------------------------------------------------------------------


async def test_429_bursts_are_survived_with_no_lost_person(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    expected = {
        (sid, pid) for sid, session in workspace.sessions.items() for pid in session.registrations
    }
    seen: list[tuple[str, str]] = []
    fake.throttle_next(2, retry_after=0, path="/sessions/*/people")
    for session_id in workspace.sessions:
        async for page in livestorm.session_people(session_id).pages():
            seen.extend((session_id, p.id) for p in page.items)
            fake.throttle_next(1, retry_after=0, path="/sessions/*/people")

    fake.clear_faults()
    statuses = [r.status for r in fake.requests]
    assert sorted(seen) == sorted(expected)  # every person once, none lost, none twice
    assert statuses.count(429) == 2 + 7  # the throttle set after the last page is never met
    assert statuses.count(200) == 8  # 4 sessions x 2 pages


async def test_the_real_burst_limit_is_survived(workspace: Workspace) -> None:
    with FakeLivestorm(workspace, rate_limit=5, rate_window=1.0) as fake:
        async with make_client(fake, requests_per_second=None, retries=RetryPolicy()) as client:
            walked = [
                (sid, p.id)
                for sid in workspace.sessions
                for p in await client.session_people(sid).all()
            ]
    expected = [(sid, pid) for sid, s in workspace.sessions.items() for pid in s.registrations]

    assert sorted(walked) == sorted(expected)
    assert [r.status for r in fake.requests].count(429) >= 1  # it did hit the limit


# -- quota ------------------------------------------------------------------------------------


async def test_the_quota_headers_are_read_after_every_call(
    fake: FakeLivestorm, livestorm: LivestormClient
) -> None:
    assert livestorm.quota.monthly_remaining is None

    await livestorm.ping()
    await livestorm.ping()

    quota = livestorm.quota
    assert (quota.monthly_limit, quota.monthly_remaining) == (10_000, 9_998)
    assert quota.monthly_remaining == fake.monthly_remaining
    assert quota.interval_limit is not None and quota.interval_remaining is not None


async def test_the_quota_reserve_raises_before_the_call(fake: FakeLivestorm) -> None:
    fake.reset_quota(503)
    async with make_client(fake, quota_reserve=500) as client:
        for _ in range(3):
            await client.ping()  # 503 → 500 left
        with pytest.raises(QuotaReserveReachedError) as caught:
            await client.ping()

    error = caught.value
    assert len(fake.calls) == 3  # the fourth call was never sent
    assert fake.monthly_remaining == 500
    assert isinstance(error, RateLimitedError)  # "try later", for generic code
    assert (error.remaining, error.reserve) == (500, 500)
    assert "500 are kept in reserve" in str(error)


async def test_a_walk_stopped_by_the_reserve_resumes_from_its_page(
    fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = next(iter(workspace.sessions.values()))
    fake.reset_quota(502)
    collected = []
    async with make_client(fake, quota_reserve=500) as client:
        await client.ping()  # 501 left: one more call is allowed, then the reserve
        with pytest.raises(QuotaReserveReachedError):
            async for page in client.session_people(session.id).pages():
                collected.extend(page.items)
                cursor = page.meta.current_page + 1
    fake.reset_quota()  # the quota renewed; the next run goes on from its cursor
    async with make_client(fake, quota_reserve=500) as client:
        async for page in client.session_people(session.id).pages(start=cursor):
            collected.extend(page.items)

    assert [p.id for p in collected] == list(session.registrations)
    assert _people_calls(fake, session.id) == [
        {"page[number]": "0", "page[size]": "50"},
        {"page[number]": "1", "page[size]": "50"},
    ]


# -- writes -----------------------------------------------------------------------------------


async def test_register_sends_fields_and_tracking(
    livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = next(iter(workspace.sessions.values()))

    person = await livestorm.register(
        session.id,
        {"email": "ann@example.com", "first_name": "Ann", "company": "Acme"},
        utm_source="newsletter",
    )
    again = await livestorm.register(
        session.id, Registrant("bob@example.com", last_name="Bee", referrer="acme.test")
    )

    stored = workspace.registration(session.id, person.id)
    assert person.email == "ann@example.com" and person.first_name == "Ann"
    assert stored.answers == {"company": "Acme"} and stored.utm_source == "newsletter"
    assert workspace.registration(session.id, again.id).referrer == "acme.test"


async def test_unregister_and_webhooks_round_trip(
    livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = next(iter(workspace.sessions.values()))
    person = next(r.person for r in session.registrations.values() if r.person.email)

    await livestorm.unregister(session.id, person.email or "")
    hook = await livestorm.create_webhook("people.attended", "https://hooks.test/ls")
    listed = await livestorm.webhooks().all()
    await livestorm.delete_webhook(hook.id)

    assert person.id not in session.registrations
    assert [(h.event, h.url) for h in listed] == [("people.attended", "https://hooks.test/ls")]
    assert await livestorm.webhooks().all() == []
    with pytest.raises(LivestormNotFoundError, match="webhook"):
        await livestorm.delete_webhook(hook.id)


def test_generate_workspace_fixture_is_what_the_tests_assume() -> None:
    workspace = generate_workspace(seed=3, events=2, sessions_per_event=2, people=240)
    assert all(51 <= len(s.registrations) <= 100 for s in workspace.sessions.values())


async def test_no_log_line_shows_the_token(
    fake: FakeLivestorm, no_secrets_logged: set[str]
) -> None:
    fake.add_token("sk-logged-nowhere-123")
    no_secrets_logged.add("sk-logged-nowhere-123")
    async with make_client(fake, api_token="sk-logged-nowhere-123") as client:
        await client.ping()
        fake.fail_next(1, 503)
        await client.events().all()
        fake.revoke_token("sk-logged-nowhere-123")
        with pytest.raises(LivestormAuthenticationError):
            await client.ping()


def test_a_quota_state_out_of_date_no_longer_blocks() -> None:
    quota = QuotaState()
    quota.update({"RateLimit-Monthly-Limit": "10000", "RateLimit-Monthly-Remaining": "10"})

    with pytest.raises(QuotaReserveReachedError):
        quota.check(500)
    quota.updated_at = datetime.now(UTC) - timedelta(hours=2)  # older than max_age
    quota.check(500)
    quota.update({"RateLimit-Monthly-Remaining": "10"})
    quota.forget()
    quota.check(500)
    assert quota.monthly_remaining is None


# -- the rate ceiling against a strict server written apart from our limiter -----------------


class _StrictWindow(http.server.BaseHTTPRequestHandler):
    """At most LIMIT requests in any sliding second, else 429 (stamps taken on arrival)."""

    LIMIT = 5
    stamps: list[float]
    refused: list[float]
    lock = threading.Lock()

    def do_GET(self) -> None:
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self.stamps if t > now - 1.0]
            allowed = len(recent) < self.LIMIT
            (self.stamps if allowed else self.refused).append(now)
        body = b"" if allowed else b'{"errors": [{"title": "Too Many Requests"}]}'
        self.send_response(200 if allowed else 429)
        if not allowed:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_the_limiter_never_overfills_a_strict_sliding_window() -> None:
    handler = type("Handler", (_StrictWindow,), {"stamps": [], "refused": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        async with LivestormClient(api_token="t", base_url=url) as client:

            async def calls(count: int) -> None:
                for _ in range(count):
                    await client.ping()

            await asyncio.gather(calls(30), calls(20), calls(12))  # sequential and concurrent
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.stamps) == 62
    assert handler.refused == []  # not one 429 caused by us


# -- faults from the remote API ---------------------------------------------------------------


async def test_a_connection_reset_mid_body_is_retried_like_a_503(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session_id = next(iter(workspace.sessions))
    fake.break_next_body(1, BodyFault.RESET, path="/sessions/*/people")
    people = await livestorm.session_people(session_id).all()
    assert len(people) == len(workspace.sessions[session_id].registrations)
    assert fake.call_count("GET", "/sessions/*/people") == math.ceil(len(people) / 50) + 1


@pytest.mark.parametrize(
    ("kind", "content_type", "start"),
    [
        (BodyFault.HTML, "text/html", "<!DOCTYPE html>"),
        (BodyFault.TRUNCATED, "application/vnd.api+json", '{"data"'),
    ],
)
async def test_a_body_that_is_not_json_api_is_a_typed_error_naming_the_call(
    fake: FakeLivestorm, livestorm: LivestormClient, kind: BodyFault, content_type: str, start: str
) -> None:
    fake.break_next_body(1, kind, path="/events")
    with pytest.raises(LivestormInvalidResponseError) as caught:
        await livestorm.events(updated_since=5).all()
    error = caught.value
    assert isinstance(error, RetriableAPIError)
    assert (error.method, error.path, error.status) == ("GET", "/v1/events", 200)
    assert error.content_type is not None and error.content_type.startswith(content_type)
    assert error.body_start.startswith(start)
    assert "Livestorm answered GET /v1/events with 200" in str(error)
    assert "filter" not in str(error) and "page" not in str(error)  # no query


async def test_eight_429s_in_a_row_are_waited_out(fake: FakeLivestorm) -> None:
    counter = ApiCallCounter()
    policy = RetryPolicy(retries=3, backoff=0.01)
    async with make_client(fake, counter=counter, retries=policy) as client:
        fake.throttle_next(8, retry_after=0)
        await client.ping()
    assert [r.status for r in fake.requests] == [429] * 8 + [200]
    assert counter.count == len(fake.requests) == 9  # every request sent, counted once


async def test_429s_past_the_budget_raise_rate_limited(fake: FakeLivestorm) -> None:
    policy = RetryPolicy(retries=3, backoff=0.01, rate_limit_budget=0.05)
    async with make_client(fake, retries=policy) as client:
        fake.throttle_next(20, retry_after=0)
        with pytest.raises(RateLimitedError):
            await client.ping()
    assert 2 <= len(fake.requests) <= 6


@pytest.mark.parametrize("spelling", ["Monthly", "Montly"])
async def test_the_quota_reserve_applies_under_either_header_spelling(
    workspace: Workspace, spelling: str
) -> None:
    with FakeLivestorm(workspace, rate_limit=None, quota_header_spelling=spelling) as fake:
        fake.reset_quota(501)
        async with make_client(fake, quota_reserve=500) as client:
            await client.ping()
            assert client.quota.monthly_remaining == 500
            with pytest.raises(QuotaReserveReachedError):
                await client.ping()


# -- people pages: the strict decode and the tolerant parse ------------------------------------


class _FixedPages(http.server.BaseHTTPRequestHandler):
    """Serves ``pages[path]`` as the JSON:API body of any GET of that path."""

    pages: dict[str, bytes]

    def do_GET(self) -> None:
        body = self.pages[self.path.split("?")[0]]
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _person(person_id: str, **attributes: object) -> dict[str, object]:
    detail = {
        "session_id": "s1",
        "event_id": "e1",
        "created_at": 1720628127,
        "attended": True,
        "fields": [{"id": "company", "value": "Acme", "custom": True, "novel": 1}],
        "brand_new_detail": {"x": 1},
    }
    return {
        "id": person_id,
        "type": "people",
        "attributes": {
            "email": f"{person_id}@example.com",
            "registrant_detail": detail,
            "messages_count": 1,
            "updated_at": 1720628200,
            "novelty": [1],
            **attributes,
        },
        "relationships": {"session": {"data": {"type": "sessions", "id": "s1"}}},
    }


async def test_people_pages_with_unknown_attributes_and_odd_types_still_read() -> None:
    meta = {"current_page": 0, "next_page": None, "record_count": 2}
    clean = {"data": [_person("p1"), _person("p2")], "meta": meta, "jsonapi": {"v": 1}}
    odd = {"data": [_person("p3", messages_count=2.5), _person("p4", email=["x"])], "meta": meta}
    handler = type(
        "Handler",
        (_FixedPages,),
        {
            "pages": {
                "/sessions/s1/people": json.dumps(clean).encode(),
                "/sessions/s2/people": json.dumps(odd).encode(),
            }
        },
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        async with LivestormClient(api_token="t", base_url=url) as client:
            read = await client.session_people("s1").all()
            pages = [page async for page in client.session_people("s2").pages()]
    finally:
        server.shutdown()
        server.server_close()
    # Unknown attributes never fail a page: decoded straight into records.
    assert [type(p) for p in read] == [PersonRecord, PersonRecord]
    assert [p.email for p in read] == ["p1@example.com", "p2@example.com"]
    first = read[0].registrant_detail
    assert first is not None and first.value("company") == "Acme" and first.attended
    assert read[0].updated_at == datetime(2024, 7, 10, 16, 16, 40, tzinfo=UTC)
    # Odd types: the page is parsed tolerantly; a readable person is kept (a fractional
    # count rounds), an unreadable one is skipped with a reason, never the page.
    (page,) = pages
    assert [(p.id, p.messages_count) for p in page.items] == [("p3", 2)]
    assert [s.id for s in page.skipped] == ["p4"] and "email" in page.skipped[0].reason
