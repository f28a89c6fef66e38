"""The webhook receiver: verify, dedupe, apply — usable from any framework, plus an ASGI app.

::

    receiver = WebhookReceiver(
        secret=settings.webhook_secret,            # "" refuses every signed delivery
        url_secret_digest=stored_digest,           # optional: unsigned deliveries
        session_factory=container.session_factory(),
        contact_service=container.contact_service(),
    )
    result = await receiver.handle(raw_body, request.headers)   # any framework
    result = await receiver.handle(raw_body, request.headers, url_secret=from_the_path)
    return Response(status=result.status_code)

    app.mount("/webhooks/livestorm", webhook_app(receiver))     # or the ready ASGI app
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, cast

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from leadbridge import LeadBridgeError
from leadbridge.contacts import (
    CORE_FIELDS,
    ContactRepository,
    ContactService,
    email_key,
    load_custom_fields,
)
from leadbridge.db import dialect_insert, is_busy_database_error, utcnow
from leadbridge.jobs import JobQueue

from ._errors import PersonSkippedError
from ._mapping import DEFAULT_FORM_FIELDS, person_to_contact_fields, registration_values
from ._models import Person, Session
from ._signing import WEBHOOK_SIGNATURE_HEADER, sign_webhook, url_secret_matches
from ._store import ChangesHook, LivestormStore, RegistrationChange
from ._tables import WebhookDeliveryRow

log = logging.getLogger("leadbridge_livestorm.webhooks")

#: The webhook events the receiver applies; others are acknowledged and ignored.
PEOPLE_EVENTS = (
    "people.registered",
    "people.attended",
    "people.not_attended",
    "people.watched_replay",
)
SESSION_ENDED = "session.ended"
HANDLED_EVENTS = (*PEOPLE_EVENTS, SESSION_ENDED)
#: Bodies larger than this are refused (413) before they are read further.
MAX_BODY_BYTES = 1_048_576
#: Seconds a sender is asked to wait (``Retry-After``) while the database is busy.
BUSY_RETRY_AFTER_SECONDS = 5

Outcome = Literal[
    "applied",
    "queued",
    "duplicate",
    "ignored",
    "unauthorized",
    "not_configured",
    "not_found",
    "invalid",
    "busy",
    "error",
]
#: The job kind that applies a delivery the receiver queued (PostgreSQL).
WEBHOOK_JOB = "livestorm_webhook"
#: Called with a session's id after a ``session.ended`` delivery committed.
SessionEndedHook = Callable[[str], Awaitable[None]]

DELIVERIES = cast(Table, WebhookDeliveryRow.__table__)


class WebhookError(LeadBridgeError):
    """A delivery refused before anything was applied; ``status_code`` is the answer."""

    status_code = 400


class WebhookSignatureError(WebhookError):
    """The signature is missing, malformed, wrong, or its timestamp is out of the window."""

    code = "LIVESTORM_WEBHOOK_SIGNATURE"
    status_code = 401


class WebhookNotConfiguredError(WebhookError):
    """No webhook secret is stored, so no signed delivery can be trusted: all are refused."""

    code = "LIVESTORM_WEBHOOK_NOT_CONFIGURED"
    status_code = 403


class WebhookUrlSecretError(WebhookError):
    """The secret in the receiver's URL is unknown (answered as a plain 404)."""

    code = "LIVESTORM_WEBHOOK_NOT_FOUND"
    status_code = 404


class WebhookPayloadError(WebhookError):
    """The body is not a JSON:API document the receiver can read."""

    code = "LIVESTORM_WEBHOOK_PAYLOAD"
    status_code = 400


_OUTCOMES: dict[int, Outcome] = {401: "unauthorized", 403: "not_configured", 404: "not_found"}
#: Told to a sender while no webhook secret is stored.
NOT_CONFIGURED = (
    "this receiver refuses every signed delivery: no Livestorm webhook secret is stored "
    "(`leadbridge integrations configure livestorm --secret webhook_secret`); for unsigned "
    "deliveries use the secret URL of `leadbridge livestorm webhooks rotate-url-secret`"
)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What :meth:`WebhookReceiver.handle` did; answer the sender with ``status_code``.

    ``outcome``: ``applied``, ``queued`` (202, PostgreSQL: stored, applied by a worker's
    ``livestorm_webhook`` job), ``duplicate`` (a redelivery: acknowledged, not applied again),
    ``ignored`` (an event the receiver does not apply, or a payload it cannot use),
    ``unauthorized`` (401), ``not_configured`` (403: no webhook secret is stored),
    ``not_found`` (404: unknown URL secret), ``invalid`` (400), ``busy`` (503: the database
    was locked by another writer; ``retry_after`` seconds), ``error`` (500). After ``busy``
    and ``error`` nothing was kept, so Livestorm's retry applies the delivery.
    """

    status_code: int
    outcome: Outcome
    event: str | None = None
    detail: str = ""
    contact_id: int | None = None
    session_id: str | None = None
    changes: tuple[RegistrationChange, ...] = field(default=(), repr=False)
    #: Seconds the sender should wait before retrying (set with a ``503``).
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "event": self.event, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """An authenticated delivery, read: what :meth:`WebhookReceiver.apply` takes.

    ``raw_body`` is kept as received (its hash, :attr:`key`, dedupes redeliveries); a
    deferred job can carry it and rebuild the delivery with :func:`read_delivery`.
    """

    event: str
    data: Mapping[str, Any] = field(repr=False)
    raw_body: bytes = field(repr=False)

    @property
    def key(self) -> str:
        return delivery_key(self.raw_body)

    @property
    def handled(self) -> bool:
        return self.event in HANDLED_EVENTS


def verify_signature(
    raw_body: bytes,
    header: str | None,
    secret: str,
    *,
    now: float,
    tolerance: float = 300.0,
) -> int:
    """Check an ``x-livestorm-signature: <unix seconds>,<64 hex>`` header; return its time.

    Raises :class:`WebhookNotConfiguredError` when ``secret`` is empty (a signature made
    with an empty key proves nothing, so it is never compared), and
    :class:`WebhookSignatureError` when the header is missing or malformed, when its time is
    more than ``tolerance`` seconds away from ``now`` (stale, or from the future), or when
    the signature does not match (compared in constant time).
    """
    if not secret:
        raise WebhookNotConfiguredError(NOT_CONFIGURED)
    if not header:
        raise WebhookSignatureError(f"the {WEBHOOK_SIGNATURE_HEADER} header is missing")
    stamp_text, comma, given = header.strip().partition(",")
    try:
        stamp = int(stamp_text.strip())
    except ValueError:
        stamp = None
    given = given.strip().lower()
    if not comma or stamp is None or len(given) != 64:
        raise WebhookSignatureError(
            f"the {WEBHOOK_SIGNATURE_HEADER} header is not '<unix seconds>,<64 hex>'"
        )
    drift = now - stamp
    if drift > tolerance:
        raise WebhookSignatureError(
            f"the webhook was signed {int(drift)}s ago, more than the {tolerance:g}s allowed"
        )
    if -drift > tolerance:
        raise WebhookSignatureError(
            f"the webhook is signed {int(-drift)}s in the future, more than the "
            f"{tolerance:g}s allowed"
        )
    expected = sign_webhook(stamp, secret, raw_body)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookSignatureError("the webhook signature does not match")
    return stamp


def delivery_key(raw_body: bytes) -> str:
    """The dedupe key of a delivery: a hash of the body (a redelivery is re-signed, so its
    signature differs, but its body is the same)."""
    return hashlib.sha256(raw_body).hexdigest()


class WebhookReceiver:
    """Applies Livestorm's webhooks to the plugin's tables, once each.

    - ``secret``: the webhook secret signed deliveries are checked with (or a callable
      returning it, read on each delivery so a rotated setting applies); never logged. While
      it is empty every signed delivery is refused (403): nothing is ever checked against an
      empty key.
    - ``url_secret_digest``: the SHA-256 (hex) of the secret in the receiver's URL, for
      unsigned deliveries (Livestorm's Webhooks app) posted to ``…/<url secret>`` (or a
      callable returning it); ``None``/empty: no such receiver, every URL secret is a 404.
    - ``session_factory``, ``contact_service``: core's; a delivery is one transaction.
    - ``tolerance``: how far (seconds or a ``timedelta``) a signature's time may be from now.
    - ``form_fields``, ``include_team_members``: the contact mapping
      (:func:`person_to_contact_fields`).
    - ``on_changes(changes, session)``: runs inside the delivery's transaction with the
      registration changes it made (point actions hook in here).
    - ``job_queue``: core's :class:`~leadbridge.jobs.JobQueue` (or a callable returning it).
      Where it is available (PostgreSQL) a delivery is stored and its processing deferred
      as a ``livestorm_webhook`` job in one transaction, answered ``202 queued`` at once; a
      worker applies it (:class:`WebhookJob`, retried on failure). Elsewhere (SQLite, or
      none) the delivery is applied inside the request.
    - ``on_session_ended(session_id)``: runs after a ``session.ended`` delivery committed
      (schedule the incremental pull of that session here); the session is also flagged in
      the table (``pull_requested_at``) and the next sync pulls it, so nothing is lost if no
      hook is set.

    A delivery goes through three steps, each callable on its own (a deferred job calls
    :meth:`apply` with what :meth:`verify` returned): :meth:`verify` (authenticate, read the
    event name), :meth:`store` (record its key; a redelivery is recognised) and
    :meth:`apply`. :meth:`handle` runs the three, the last two in one transaction.

    ``people.*`` deliveries upsert the person's registration (``people.attended`` /
    ``people.not_attended`` / ``people.watched_replay`` assert their fact over the payload),
    match the contact by email or create it (``source="livestorm"``) — an existing contact's
    fields are left to the sync, which judges conflicts. A session not stored yet gets a stub
    row flagged for a pull.
    """

    def __init__(
        self,
        *,
        secret: str | Callable[[], str],
        session_factory: async_sessionmaker[AsyncSession],
        contact_service: ContactService,
        url_secret_digest: str | Callable[[], str | None] | None = None,
        store: LivestormStore | None = None,
        tolerance: float | timedelta = 300.0,
        form_fields: Mapping[str, str] = DEFAULT_FORM_FIELDS,
        include_team_members: bool = False,
        on_changes: ChangesHook | None = None,
        on_session_ended: SessionEndedHook | None = None,
        job_queue: JobQueue | Callable[[], JobQueue] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._url_secret_digest = url_secret_digest
        self._session_factory = session_factory
        self._contacts = contact_service
        # Stateless: the statements only; reads go through the delivery's session.
        self._contact_reads = ContactRepository()
        self._store = store or LivestormStore()
        self.tolerance = (
            tolerance.total_seconds() if isinstance(tolerance, timedelta) else float(tolerance)
        )
        self._form_fields = dict(form_fields)
        self._include_team_members = include_team_members
        self._on_changes = on_changes
        self._on_session_ended = on_session_ended
        self._job_queue = job_queue
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookReceiver(tolerance={self.tolerance:g}, secret='***')"

    def _secret_value(self) -> str:
        return self._secret() if callable(self._secret) else self._secret

    def _queue_value(self) -> JobQueue | None:
        queue = self._job_queue
        queue = queue() if callable(queue) else queue
        return queue if queue is not None and queue.available else None

    def _digest_value(self) -> str | None:
        digest = self._url_secret_digest
        return digest() if callable(digest) else digest

    def verify(
        self, raw_body: bytes, headers: Mapping[str, str], *, url_secret: str | None = None
    ) -> WebhookDelivery:
        """Authenticate a delivery and read it, or raise a :class:`WebhookError`.

        Without ``url_secret`` (the plain route) the signature must verify against the
        stored webhook secret. With one (``…/<url secret>``) the secret must match the stored
        digest (else a 404); a signature, when the delivery carries one and a webhook secret
        is stored, is checked too.
        """
        header = _header(headers, WEBHOOK_SIGNATURE_HEADER)
        if url_secret is None:
            verify_signature(
                raw_body, header, self._secret_value(), now=self._clock(), tolerance=self.tolerance
            )
        else:
            if not url_secret_matches(url_secret, self._digest_value()):
                raise WebhookUrlSecretError("not found")
            secret = self._secret_value()
            if header and secret:
                verify_signature(
                    raw_body, header, secret, now=self._clock(), tolerance=self.tolerance
                )
        return read_delivery(raw_body)

    async def store(self, db: AsyncSession, delivery: WebhookDelivery) -> bool:
        """Record the delivery's key in ``db``'s transaction; ``False`` when seen before."""
        insert = dialect_insert(db, DELIVERIES)
        statement = (
            insert.values(delivery_key=delivery.key, event=delivery.event, received_at=utcnow())
            .on_conflict_do_nothing(index_elements=["delivery_key"])
            .returning(DELIVERIES.c.id)
        )
        return (await db.execute(statement)).scalar() is not None

    async def apply(self, db: AsyncSession, delivery: WebhookDelivery) -> WebhookResult:
        """Apply a verified delivery in ``db``'s transaction (the caller commits)."""
        if delivery.event == SESSION_ENDED:
            return await self._session_ended(db, delivery.data)
        if delivery.event in PEOPLE_EVENTS:
            return await self._people(db, delivery.event, delivery.data)
        return WebhookResult(200, "ignored", delivery.event, f"{delivery.event} is not applied")

    async def handle(
        self, raw_body: bytes, headers: Mapping[str, str], *, url_secret: str | None = None
    ) -> WebhookResult:
        """Verify, dedupe and apply one delivery; never raises for a bad delivery."""
        try:
            delivery = self.verify(raw_body, headers, url_secret=url_secret)
        except WebhookError as exc:
            outcome = _OUTCOMES.get(exc.status_code, "invalid")
            log.warning("Livestorm webhook refused: %s", exc)
            return WebhookResult(exc.status_code, outcome, detail=str(exc))
        event = delivery.event
        if not delivery.handled:
            return WebhookResult(200, "ignored", event, f"{event} is not applied")
        queue = self._queue_value()
        try:
            if queue is not None:
                await queue.open()  # once: opening an open queue does nothing
                return await self._defer(queue, delivery)
            async with self._session_factory.begin() as db:
                if not await self.store(db, delivery):
                    return WebhookResult(200, "duplicate", event, "already applied")
                result = await self.apply(db, delivery)
        except Exception as exc:
            # Nothing was committed (the delivery key neither): Livestorm's retry applies it.
            if is_busy_database_error(exc):
                log.warning("Livestorm webhook %s: the database is busy (%s)", event, exc)
                wait = BUSY_RETRY_AFTER_SECONDS
                detail = f"the database is busy; retry in {wait} s"
                return WebhookResult(503, "busy", event, detail, retry_after=wait)
            log.exception("Livestorm webhook %s could not be applied", event)
            return WebhookResult(500, "error", event, "the delivery could not be applied")
        await self._after_commit(result)
        return result

    async def _defer(self, queue: JobQueue, delivery: WebhookDelivery) -> WebhookResult:
        """Store the delivery and queue its processing in one transaction."""
        async with queue.transaction() as db:
            if not await self.store(db, delivery):
                return WebhookResult(200, "duplicate", delivery.event, "already received")
            body = base64.b64encode(delivery.raw_body).decode("ascii")
            await queue.defer(WEBHOOK_JOB, {"body": body}, session=db)
        return WebhookResult(202, "queued", delivery.event, "stored; a worker applies it")

    async def process(self, raw_body: bytes) -> WebhookResult:
        """Apply a stored delivery in a transaction of its own (what the job runs); raises
        what applying raised, having kept nothing of it."""
        delivery = read_delivery(raw_body)
        async with self._session_factory.begin() as db:
            result = await self.apply(db, delivery)
        await self._after_commit(result)
        return result

    async def _after_commit(self, result: WebhookResult) -> None:
        if result.outcome != "applied" or result.event != SESSION_ENDED:
            return
        if self._on_session_ended is None:
            return
        try:
            await self._on_session_ended(result.session_id or "")
        except Exception:
            # The flag is stored: the next sync pulls the session even if the hook failed.
            log.exception("the session.ended hook failed for %s", result.session_id)

    async def _people(self, db: AsyncSession, event: str, data: Mapping[str, Any]) -> WebhookResult:
        try:
            person = Person.model_validate(data)
            values = registration_values(person)
        except (PydanticValidationError, PersonSkippedError) as exc:
            detail = getattr(exc, "message", None) or "the payload is not a registered person"
            return WebhookResult(200, "ignored", event, detail)
        _assert_fact(event, values)
        contact_id = await self._contact(db, person)
        values["contact_id"] = contact_id
        await self._store.ensure_session(db, values["session_id"], values["event_id"])
        written = await self._store.write_registrations(db, [values])
        if self._on_changes is not None and written.changes:
            await self._on_changes(written.changes, db)
        detail = "registration updated" if written.changes else "nothing changed"
        return WebhookResult(
            200,
            "applied",
            event,
            detail,
            contact_id=contact_id,
            session_id=values["session_id"],
            changes=tuple(written.changes),
        )

    async def _contact(self, db: AsyncSession, person: Person) -> int | None:
        """The contact of this person: matched by email, or created with the mapped fields."""
        try:
            fields = person_to_contact_fields(
                person, self._form_fields, include_team_members=self._include_team_members
            )
        except PersonSkippedError:
            return None
        key = email_key(fields["email"])
        existing = await self._contact_reads.by_emails(db, [fields["email"]])
        if key in existing:
            return existing[key].id
        known = set(CORE_FIELDS) | {spec.alias for spec in await load_custom_fields(db)}
        fields = {name: value for name, value in fields.items() if name in known}
        created = await self._contacts.bulk_upsert([fields], source="livestorm", session=db)
        if key not in created.ids:
            # An answer the contact fields refuse must not cost the contact: names only.
            minimal = {k: v for k, v in fields.items() if k in ("email", "first_name", "last_name")}
            created = await self._contacts.bulk_upsert([minimal], source="livestorm", session=db)
        return created.ids.get(key)

    async def _session_ended(self, db: AsyncSession, data: Mapping[str, Any]) -> WebhookResult:
        try:
            session = Session.model_validate(data)
        except PydanticValidationError:
            return WebhookResult(200, "ignored", SESSION_ENDED, "the payload is not a session")
        if not session.event_id:
            return WebhookResult(200, "ignored", SESSION_ENDED, "the session names no event")
        await self._store.ensure_session(db, session.id, session.event_id)
        await self._store.upsert_sessions(db, [session])
        await self._store.request_pull(db, session.id)
        return WebhookResult(
            200, "applied", SESSION_ENDED, "session pull requested", session_id=session.id
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def read_delivery(raw_body: bytes) -> WebhookDelivery:
    """Read a delivery's body (not its authenticity), or raise :class:`WebhookPayloadError`.

    The event name is ``data.meta.webhook.event``, where Livestorm puts it; a top-level
    ``meta.event`` is read too. A body naming no event (Livestorm's Webhooks app) is judged
    by its resource: a person is a ``people.registered`` (its snapshot applied as it is), a
    session whose status is ``past`` a ``session.ended`` (inferred); anything else is
    ``<type>.updated`` and ignored.
    """
    try:
        document = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WebhookPayloadError("the webhook body is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise WebhookPayloadError('the webhook body is not a JSON:API document {"data": {…}}')
    event = _named_event(data.get("meta"), "webhook") or _named_event(document, "meta")
    if event is None:
        event = _unnamed_event(data)
    return WebhookDelivery(event=event, data=data, raw_body=raw_body)


def _named_event(container: Any, key: str) -> str | None:
    """``container[key]["event"]`` when it is a non-empty string."""
    inner = container.get(key) if isinstance(container, dict) else None
    event = inner.get("event") if isinstance(inner, dict) else None
    return event if isinstance(event, str) and event else None


def _unnamed_event(data: Mapping[str, Any]) -> str:
    kind = data["type"]
    if kind == "people":
        return "people.registered"
    attributes = data.get("attributes")
    if kind == "sessions" and isinstance(attributes, dict) and attributes.get("status") == "past":
        return SESSION_ENDED
    return f"{kind}.updated"


def _assert_fact(event: str, values: dict[str, Any]) -> None:
    """What the event says wins over the payload's snapshot of it."""
    if event == "people.attended":
        values["attended"] = True
    elif event == "people.not_attended":
        values["attended"] = False
        values["attendance_rate"] = None
        values["attendance_duration"] = None
    elif event == "people.watched_replay":
        values["has_viewed_replay"] = True
        if values.get("replay_watched_at") is None:
            values["replay_watched_at"] = utcnow().replace(microsecond=0)


def webhook_app(
    receiver: WebhookReceiver, *, max_body_bytes: int = MAX_BODY_BYTES
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app that answers Livestorm's webhook POSTs where it is mounted.

    Two routes, relative to the mount point (``root_path``): ``/`` (and no path at all) for
    signed deliveries, ``/<url secret>`` for deliveries authenticated by the secret in their
    URL (:meth:`WebhookReceiver.verify`); any other path is a 404, any other method a 405.
    2xx once the delivery is applied or queued (or is a redelivery, or an event not
    applied), 401 on a bad signature, 403 while no webhook secret is stored, 404 on an
    unknown URL secret, 400 on a malformed body, 413 on a body over ``max_body_bytes``, 503
    with ``Retry-After`` while the database is busy, 500 when it could not be applied
    (Livestorm retries both). The answer is a small JSON document.
    """

    async def receive(request: Request, url_secret: str | None) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return JSONResponse({"outcome": "invalid", "detail": "body too large"}, 413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body_bytes:
                return JSONResponse({"outcome": "invalid", "detail": "body too large"}, 413)
        result = await receiver.handle(bytes(body), request.headers, url_secret=url_secret)
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
        return JSONResponse(result.to_dict(), status_code=result.status_code, headers=headers)

    async def app(scope: Scope, receive_message: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive_message)
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        rest = path[len(root) :] if root and path.startswith(root) else path
        parts = [part for part in rest.split("/") if part]
        if len(parts) > 1:
            response: Response = JSONResponse({"outcome": "not_found", "detail": "not found"}, 404)
        elif request.method != "POST":
            response = JSONResponse(
                {"outcome": "invalid", "detail": "POST only"}, 405, headers={"Allow": "POST"}
            )
        else:
            response = await receive(request, parts[0] if parts else None)
        await response(scope, receive_message, send)

    return app
