"""``FakeLivestorm``: the fake served for real by uvicorn on a loopback port, in a thread."""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx

from .._signing import WEBHOOK_SIGNATURE_HEADER, signature_header_value
from ._app import API_PREFIX, BodyFault, TaskShape, build_app
from ._resources import event_resource, job_resource, registration_resource, session_resource
from ._serving import LoopbackServer, StartStopContext
from ._store import DAY, WEBHOOK_EVENTS, WebhookRecord, Workspace

#: The private API token the fake accepts unless told otherwise.
DEFAULT_TOKEN = "fake-livestorm-token"
#: The secret the fake signs webhooks with unless told otherwise.
DEFAULT_WEBHOOK_SECRET = "fake-livestorm-webhook-secret"
#: What ``RateLimit-Interval-Limit`` says when the burst limit is off.
UNLIMITED_INTERVAL = 1_000_000

#: A token's scopes: ``{"identity"|"events"|"admin"|"webhooks": "none"|"read"|"write"}``;
#: ``None`` grants everything. A scope left out means ``"none"``.
Scopes = Mapping[str, str] | None


@dataclass(slots=True)
class RecordedRequest:
    """One request the fake received: ``path`` is relative to ``/v1``; ``status`` as answered;
    ``received_at`` the ``time.monotonic()`` of its arrival."""

    method: str
    path: str
    query: str
    status: int = 0
    received_at: float = field(default_factory=time.monotonic)

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass(slots=True)
class _Fault:
    status: int
    remaining: int
    method: str | None
    path: str | None
    retry_after: int | None
    detail: str
    body: BodyFault | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or fnmatch.fnmatchcase(path, self.path)
        )


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST of a webhook: what was sent, and how the receiver answered.

    ``status_code`` is ``None`` (and ``error`` says why) when the receiver could not be reached.
    """

    webhook_id: str
    event: str
    url: str
    body: bytes
    timestamp: int
    signature: str | None
    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.signature is not None:
            headers[WEBHOOK_SIGNATURE_HEADER] = self.signature
        return headers


class FakeLivestorm(StartStopContext):
    """A fake Livestorm API on ``http://127.0.0.1:<free port>/v1``, for tests and demos.

    ::

        with FakeLivestorm(generate_workspace(seed=1, people=500)) as fake:
            httpx.get(f"{fake.base_url}/events", headers=fake.auth_headers)

    It speaks the API of ``livestorm-api.md``: raw-token auth (``Bearer`` only for OAuth
    tokens added with :meth:`add_oauth_token`), JSON:API envelopes, 0-based pages of at most
    50, filters, 401/403/404/409/422 bodies, ``RateLimit-*`` headers on every answer, a burst
    limit (``rate_limit`` requests per ``rate_window`` seconds; ``None`` turns it off) and a
    monthly quota (``monthly_limit``, ``monthly_remaining``), bulk jobs that end
    ``job_delay`` seconds after they are created, and webhooks (:meth:`deliver`): signed, or
    unsigned for a Webhooks-app subscription (``subscribe(..., signed=False)``), the event name
    at ``data.meta.webhook.event``. ``ignore_updated_since`` names the lists (``events``,
    ``sessions``, ``people``) that ignore ``filter[updated_since]``, as the real API may.

    Tests steer it through :attr:`workspace` (see :class:`Workspace`'s helpers),
    :attr:`clock`, :meth:`fail_next`, :meth:`throttle_next`, :meth:`revoke_token`, and read
    :attr:`calls` / :attr:`requests` back. Every request is logged, including refused ones.
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        scopes: Scopes = None,
        oauth_tokens: Iterable[str] = (),
        rate_limit: int | None = 5,
        rate_window: float = 1.0,
        monthly_limit: int = 10_000,
        quota_header_spelling: str = "Monthly",
        task_shape: TaskShape = TaskShape.INFERRED,
        job_delay: float = 0.05,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        ignore_updated_since: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.workspace = workspace if workspace is not None else Workspace()
        self.token = token
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        #: ``Monthly`` (the docs) or ``Montly`` (Livestorm's published spec, sic).
        self.quota_header_spelling = quota_header_spelling
        #: How ``GET /jobs/{id}/tasks`` describes each item (see :class:`TaskShape`).
        self.task_shape = TaskShape(task_shape)
        self.monthly_limit = monthly_limit
        self.monthly_remaining = monthly_limit
        #: Unix time (fake clock) when the monthly quota resets; sent as ``RateLimit-Reset``.
        self.quota_reset_at = self.workspace.clock + 30 * DAY
        self.job_delay = job_delay
        self.webhook_secret = webhook_secret
        #: The lists (``events``, ``sessions``, ``people``) that answer as if
        #: ``filter[updated_since]``/``[updated_until]`` were not given, as the real API may
        #: for the filters its reference does not list.
        self.ignore_updated_since: set[str] = set(ignore_updated_since)
        #: ``(method, path)`` of every request, ``path`` relative to ``/v1``.
        self.calls: list[tuple[str, str]] = []
        #: Every request with its query string and answered status.
        self.requests: list[RecordedRequest] = []
        #: Every webhook POST made by :meth:`deliver`, oldest first.
        self.deliveries: list[WebhookDelivery] = []
        self._lock = threading.RLock()
        self._api_tokens: dict[str, Scopes] = {token: scopes}
        self._oauth_tokens: dict[str, Scopes] = dict.fromkeys(oauth_tokens)
        self._faults: list[_Fault] = []
        self._window: deque[float] = deque()
        self.app, self._api = build_app(self)
        self._serving = LoopbackServer(self.app, host=host, port=port)

    def __repr__(self) -> str:
        where = self.base_url if self._serving.started else "not started"
        return f"<FakeLivestorm {where}>"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve on a free loopback port (or the one given) until :meth:`stop`."""
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop serving (the state stays; :meth:`start` serves it again on a new port)."""
        self._serving.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what a client takes as Livestorm's base URL."""
        if not self._serving.started:
            raise RuntimeError("the fake Livestorm server is not started")
        return self._serving.url + API_PREFIX

    def url(self, path: str) -> str:
        """The full URL of an API path: ``fake.url("/events")``."""
        return self.base_url + "/" + path.lstrip("/")

    @property
    def auth_headers(self) -> dict[str, str]:
        """``{"Authorization": <token>}``, the raw token as Livestorm wants it."""
        return {"Authorization": self.token}

    # -- time -----------------------------------------------------------------------------

    @property
    def clock(self) -> int:
        """The workspace's "now" (Unix seconds): it stamps every change; set it freely."""
        return self.workspace.clock

    @clock.setter
    def clock(self, value: int) -> None:
        with self.workspace.lock:
            self.workspace.clock = int(value)

    def advance(self, seconds: int) -> int:
        """Move the clock forward; returns the new time."""
        return self.workspace.advance(seconds)

    # -- auth -----------------------------------------------------------------------------

    def add_token(self, token: str, scopes: Scopes = None) -> None:
        """Accept another private API token (sent raw), with optional scopes."""
        with self._lock:
            self._api_tokens[token] = scopes

    def add_oauth_token(self, token: str, scopes: Scopes = None) -> None:
        """Accept an OAuth2 access token, sent as ``Authorization: Bearer <token>``."""
        with self._lock:
            self._oauth_tokens[token] = scopes

    def revoke_token(self, token: str | None = None) -> None:
        """Refuse a token from now on (401); the default token when none is named."""
        with self._lock:
            name = self.token if token is None else token
            self._api_tokens.pop(name, None)
            self._oauth_tokens.pop(name, None)

    # -- faults and limits ----------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and an error body.

        ``path`` is a glob on the path after ``/v1`` (``"/sessions/*/people"``); ``method``
        narrows further. Works for any status: 500/503, 402 (contacts allowance reached),
        401, 429 (see :meth:`throttle_next`). Faulted requests cost no quota.
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    status=status,
                    remaining=count,
                    method=method,
                    path=path,
                    retry_after=retry_after,
                    detail=detail or f"Injected failure ({status})",
                )
            )

    def throttle_next(
        self, count: int = 1, *, retry_after: int = 1, path: str | None = None
    ) -> None:
        """Answer the next ``count`` requests with 429 and ``Retry-After: retry_after``."""
        self.fail_next(
            count,
            429,
            path=path,
            retry_after=retry_after,
            detail="Too many requests (injected)",
        )

    def break_next_body(
        self,
        count: int = 1,
        kind: BodyFault = BodyFault.RESET,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with a broken body (``kind``)."""
        with self._lock:
            self._faults.append(
                _Fault(
                    status=200,
                    remaining=count,
                    method=method,
                    path=path,
                    retry_after=None,
                    detail=f"Injected broken body ({kind})",
                    body=BodyFault(kind),
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_quota(self, remaining: int | None = None) -> None:
        """Refill the monthly quota (to ``remaining`` if given) and empty the burst window."""
        with self._lock:
            self.monthly_remaining = self.monthly_limit if remaining is None else remaining
            self._window.clear()

    # -- the call log ---------------------------------------------------------------------

    def reset_calls(self) -> None:
        """Forget the logged requests (``calls`` and ``requests``)."""
        with self._lock:
            self.calls.clear()
            self.requests.clear()

    def call_count(self, method: str | None = None, path: str | None = None) -> int:
        """How many logged requests match ``method`` and the glob ``path``."""
        with self._lock:
            return sum(
                1
                for logged in self.requests
                if (method is None or logged.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(logged.path, path))
            )

    # -- jobs -----------------------------------------------------------------------------

    def finish_jobs(self) -> None:
        """End every processing bulk job now, without waiting for ``job_delay``."""
        with self.workspace.lock:
            for job_id in [job.id for job in self.workspace.jobs.values()]:
                self._api.finish_job(job_id)

    # -- webhooks -------------------------------------------------------------------------

    def add_webhook(self, target_url: str, event: str, *, signed: bool = True) -> WebhookRecord:
        """Subscribe ``target_url`` to one webhook event (what ``POST /webhooks`` does).

        ``signed=False`` makes one of Livestorm's Webhooks app: its deliveries are unsigned.
        """
        if event not in WEBHOOK_EVENTS:
            raise ValueError(f"unknown webhook event {event!r}")
        with self.workspace.lock:
            hook = WebhookRecord(
                id=self.workspace.new_id(),
                event=event,
                target_url=target_url,
                created_at=self.workspace.clock,
                signed=signed,
            )
            self.workspace.webhooks[hook.id] = hook
            return hook

    def subscribe(
        self, target_url: str, events: Iterable[str] | None = None, *, signed: bool = True
    ) -> list[WebhookRecord]:
        """Subscribe ``target_url`` to ``events`` (all of them by default)."""
        return [
            self.add_webhook(target_url, event, signed=signed)
            for event in (events or WEBHOOK_EVENTS)
        ]

    def webhook_payload(
        self,
        event_name: str,
        *,
        session_id: str | None = None,
        person_id: str | None = None,
        event_id: str | None = None,
        job_id: str | None = None,
    ) -> dict[str, Any]:
        """The body Livestorm posts for ``event_name`` about the named record.

        ``people.*`` need ``session_id`` and ``person_id``; ``session.*`` a ``session_id``;
        ``event.*`` an ``event_id``; ``job.*`` a ``job_id``. The body is
        ``{"data": {…the resource…, "meta": {"webhook": {"event": event_name}}}}``: the event
        name at ``data.meta.webhook.event``, where Livestorm's receivers read it.
        """
        if event_name not in WEBHOOK_EVENTS:
            raise ValueError(f"unknown webhook event {event_name!r}")
        kind = event_name.split(".", 1)[0]
        ws = self.workspace
        with ws.lock:
            if kind == "people":
                if session_id is None or person_id is None:
                    raise ValueError(f"{event_name} needs session_id and person_id")
                resource = registration_resource(ws, ws.registration(session_id, person_id))
            elif kind == "session":
                if session_id is None:
                    raise ValueError(f"{event_name} needs session_id")
                resource = session_resource(ws, ws.sessions[session_id])
            elif kind == "event":
                if event_id is None:
                    raise ValueError(f"{event_name} needs event_id")
                resource = event_resource(ws, ws.events[event_id])
            else:
                if job_id is None:
                    raise ValueError(f"{event_name} needs job_id")
                resource = job_resource(ws.jobs[job_id])
        return {"data": _named(resource, event_name)}

    def _prepare(
        self,
        event_name: str,
        resource: Mapping[str, Any] | None,
        timestamp: int | None,
        ids: Mapping[str, str | None],
    ) -> list[tuple[WebhookRecord, bytes, int, str | None]]:
        if resource is None:
            document: Mapping[str, Any] = self.webhook_payload(event_name, **ids)
        elif "data" in resource:
            document = resource
        else:
            document = {"data": _named(resource, event_name)}
        body = json.dumps(document, separators=(",", ":")).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        with self.workspace.lock:
            hooks = [h for h in self.workspace.webhooks.values() if h.event == event_name]
        return [(hook, body, stamp, self._signature(hook, stamp, body)) for hook in hooks]

    def _signature(self, hook: WebhookRecord, stamp: int, body: bytes) -> str | None:
        """The signature header of a delivery: none for a Webhooks-app subscription."""
        if not hook.signed:
            return None
        return signature_header_value(stamp, self.webhook_secret, body)

    async def deliver(
        self,
        event_name: str,
        resource: Mapping[str, Any] | None = None,
        *,
        session_id: str | None = None,
        person_id: str | None = None,
        event_id: str | None = None,
        job_id: str | None = None,
        timestamp: int | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> list[WebhookDelivery]:
        """POST ``event_name`` to every URL subscribed to it, signed; returns the deliveries.

        The body is :meth:`webhook_payload` for the ids given, or ``resource`` (a resource
        object, or a whole document with ``data``). ``timestamp`` (default: the real time,
        since receivers check freshness against theirs) is what gets signed. Pass ``client``
        to deliver through your own transport (``httpx.ASGITransport``). One attempt each: a
        test redelivers with :meth:`redeliver`.
        """
        ids = {
            "session_id": session_id,
            "person_id": person_id,
            "event_id": event_id,
            "job_id": job_id,
        }
        prepared = self._prepare(event_name, resource, timestamp, ids)
        own = client is None
        http = client or httpx.AsyncClient(timeout=10)
        try:
            results = []
            for hook, body, stamp, header in prepared:
                posted = await self._post_async(
                    http, hook.id, event_name, hook.target_url, body, stamp, header
                )
                results.append(posted)
            return results
        finally:
            if own:
                await http.aclose()

    def deliver_sync(
        self,
        event_name: str,
        resource: Mapping[str, Any] | None = None,
        *,
        session_id: str | None = None,
        person_id: str | None = None,
        event_id: str | None = None,
        job_id: str | None = None,
        timestamp: int | None = None,
        client: httpx.Client | None = None,
    ) -> list[WebhookDelivery]:
        """:meth:`deliver` for synchronous code."""
        ids = {
            "session_id": session_id,
            "person_id": person_id,
            "event_id": event_id,
            "job_id": job_id,
        }
        prepared = self._prepare(event_name, resource, timestamp, ids)
        own = client is None
        http = client or httpx.Client(timeout=10)
        try:
            results = []
            for hook, body, stamp, header in prepared:
                delivery = _attempt(hook.id, event_name, hook.target_url, body, stamp, header)
                try:
                    response = http.post(hook.target_url, content=body, headers=delivery.headers)
                except httpx.HTTPError as exc:
                    results.append(self._log(delivery, None, repr(exc)))
                else:
                    results.append(self._log(delivery, response.status_code, None))
            return results
        finally:
            if own:
                http.close()

    async def redeliver(
        self,
        delivery: WebhookDelivery,
        *,
        timestamp: int | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> WebhookDelivery:
        """Post the same body again (Livestorm's retry), signed afresh for ``timestamp``."""
        stamp = int(time.time()) if timestamp is None else timestamp
        header = None
        if delivery.signature is not None:
            header = signature_header_value(stamp, self.webhook_secret, delivery.body)
        own = client is None
        http = client or httpx.AsyncClient(timeout=10)
        try:
            hook, event_name = delivery.webhook_id, delivery.event
            return await self._post_async(
                http, hook, event_name, delivery.url, delivery.body, stamp, header
            )
        finally:
            if own:
                await http.aclose()

    async def _post_async(
        self,
        http: httpx.AsyncClient,
        webhook_id: str,
        event_name: str,
        url: str,
        body: bytes,
        stamp: int,
        header: str | None,
    ) -> WebhookDelivery:
        delivery = _attempt(webhook_id, event_name, url, body, stamp, header)
        try:
            response = await http.post(url, content=body, headers=delivery.headers)
        except httpx.HTTPError as exc:
            return self._log(delivery, None, repr(exc))
        return self._log(delivery, response.status_code, None)

    def _log(
        self, attempt: WebhookDelivery, status: int | None, error: str | None
    ) -> WebhookDelivery:
        delivery = replace(attempt, status_code=status, error=error)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    # -- used by the gate -----------------------------------------------------------------

    def _record(self, method: str, path: str, query: str) -> RecordedRequest:
        record = RecordedRequest(method, path, query)
        with self._lock:
            self.calls.append((method, path))
            self.requests.append(record)
        return record

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _rate_headers(self) -> dict[str, str]:
        limit = UNLIMITED_INTERVAL if self.rate_limit is None else self.rate_limit
        return {
            f"RateLimit-{self.quota_header_spelling}-Limit": str(self.monthly_limit),
            f"RateLimit-{self.quota_header_spelling}-Remaining": str(
                max(0, self.monthly_remaining)
            ),
            "RateLimit-Interval-Limit": str(limit),
            "RateLimit-Interval-Remaining": str(max(0, limit - len(self._window))),
        }


def _named(resource: Mapping[str, Any], event_name: str) -> dict[str, Any]:
    """``resource`` carrying its webhook event name at ``meta.webhook.event``."""
    meta = dict(resource.get("meta") or {})
    meta["webhook"] = {"event": event_name}
    return {**resource, "meta": meta}


def _attempt(
    webhook_id: str, event_name: str, url: str, body: bytes, stamp: int, header: str | None
) -> WebhookDelivery:
    return WebhookDelivery(webhook_id, event_name, url, body, stamp, header, status_code=None)
