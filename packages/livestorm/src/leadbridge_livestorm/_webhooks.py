"""The webhook receiver: verify, dedupe, apply — usable from any framework, plus an ASGI app.

::

    receiver = WebhookReceiver(
        secret=settings.webhook_secret,
        session_factory=container.session_factory(),
        contact_service=container.contact_service(),
    )
    result = await receiver.handle(raw_body, request.headers)   # any framework
    return Response(status=result.status_code)

    app.mount("/webhooks/livestorm", webhook_app(receiver))     # or the ready ASGI app
"""

from __future__ import annotations

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
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from leadbridge._errors import LeadBridgeError
from leadbridge.contacts import CORE_FIELDS, ContactRow, ContactService, CustomFieldRow, email_key
from leadbridge.db import utcnow

from ._errors import PersonSkippedError
from ._mapping import DEFAULT_FORM_FIELDS, person_to_contact_fields, registration_values
from ._models import Person, Session
from ._signing import WEBHOOK_SIGNATURE_HEADER, sign_webhook
from ._store import ChangesHook, LivestormStore, RegistrationChange, dialect_insert
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

Outcome = Literal["applied", "duplicate", "ignored", "unauthorized", "invalid", "error"]
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


class WebhookPayloadError(WebhookError):
    """The body is not a JSON:API document the receiver can read."""

    code = "LIVESTORM_WEBHOOK_PAYLOAD"
    status_code = 400


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What :meth:`WebhookReceiver.handle` did; answer the sender with ``status_code``.

    ``outcome``: ``applied``, ``duplicate`` (a redelivery: acknowledged, not applied again),
    ``ignored`` (an event the receiver does not apply, or a payload it cannot use),
    ``unauthorized`` (401), ``invalid`` (400), ``error`` (500: nothing was kept, so
    Livestorm's retry applies it).
    """

    status_code: int
    outcome: Outcome
    event: str | None = None
    detail: str = ""
    contact_id: int | None = None
    session_id: str | None = None
    changes: tuple[RegistrationChange, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "event": self.event, "detail": self.detail}


def verify_signature(
    raw_body: bytes,
    header: str | None,
    secret: str,
    *,
    now: float,
    tolerance: float = 300.0,
) -> int:
    """Check an ``x-livestorm-signature: <unix seconds>,<64 hex>`` header; return its time.

    Raises :class:`WebhookSignatureError` when the header is missing or malformed, when its
    time is more than ``tolerance`` seconds away from ``now`` (stale, or from the future), or
    when the signature does not match (compared in constant time).
    """
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

    - ``secret``: the webhook secret (or a callable returning it, read on each delivery so a
      rotated setting applies); never logged.
    - ``session_factory``, ``contact_service``: core's; a delivery is one transaction.
    - ``tolerance``: how far (seconds or a ``timedelta``) a signature's time may be from now.
    - ``form_fields``, ``include_team_members``: the contact mapping
      (:func:`person_to_contact_fields`).
    - ``on_changes(changes, session)``: runs inside the delivery's transaction with the
      registration changes it made (point actions hook in here).
    - ``on_session_ended(session_id)``: runs after a ``session.ended`` delivery committed
      (schedule the incremental pull of that session here); the session is also flagged in
      the table (``pull_requested_at``), so nothing is lost if no hook is set.

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
        store: LivestormStore | None = None,
        tolerance: float | timedelta = 300.0,
        form_fields: Mapping[str, str] = DEFAULT_FORM_FIELDS,
        include_team_members: bool = False,
        on_changes: ChangesHook | None = None,
        on_session_ended: SessionEndedHook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._session_factory = session_factory
        self._contacts = contact_service
        self._store = store or LivestormStore()
        self.tolerance = (
            tolerance.total_seconds() if isinstance(tolerance, timedelta) else float(tolerance)
        )
        self._form_fields = dict(form_fields)
        self._include_team_members = include_team_members
        self._on_changes = on_changes
        self._on_session_ended = on_session_ended
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookReceiver(tolerance={self.tolerance:g}, secret='***')"

    def _secret_value(self) -> str:
        return self._secret() if callable(self._secret) else self._secret

    def verify(self, raw_body: bytes, headers: Mapping[str, str]) -> int:
        """Check the delivery's signature; its timestamp, or :class:`WebhookSignatureError`."""
        header = _header(headers, WEBHOOK_SIGNATURE_HEADER)
        return verify_signature(
            raw_body, header, self._secret_value(), now=self._clock(), tolerance=self.tolerance
        )

    async def handle(self, raw_body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """Verify, dedupe and apply one delivery; never raises for a bad delivery."""
        try:
            self.verify(raw_body, headers)
            event, data = _parse(raw_body)
        except WebhookError as exc:
            outcome: Outcome = "unauthorized" if exc.status_code == 401 else "invalid"
            log.warning("Livestorm webhook refused: %s", exc)
            return WebhookResult(exc.status_code, outcome, detail=str(exc))
        if event not in HANDLED_EVENTS:
            return WebhookResult(200, "ignored", event, f"{event} is not applied")
        try:
            if event == SESSION_ENDED:
                result = await self._session_ended(raw_body, data)
            else:
                result = await self._people(event, raw_body, data)
        except Exception:
            # Nothing was committed (the delivery key neither): Livestorm's retry applies it.
            log.exception("Livestorm webhook %s could not be applied", event)
            return WebhookResult(500, "error", event, "the delivery could not be applied")
        if result.outcome == "applied" and event == SESSION_ENDED and self._on_session_ended:
            try:
                await self._on_session_ended(result.session_id or "")
            except Exception:
                # The flag is stored: the next sync pulls the session even if the hook failed.
                log.exception("the session.ended hook failed for %s", result.session_id)
        return result

    async def _claim(self, db: AsyncSession, raw_body: bytes, event: str) -> bool:
        """Record the delivery's key; ``False`` when it was applied before."""
        insert = dialect_insert(db, DELIVERIES)
        statement = (
            insert.values(delivery_key=delivery_key(raw_body), event=event, received_at=utcnow())
            .on_conflict_do_nothing(index_elements=["delivery_key"])
            .returning(DELIVERIES.c.id)
        )
        return (await db.execute(statement)).scalar() is not None

    async def _people(self, event: str, raw_body: bytes, data: Mapping[str, Any]) -> WebhookResult:
        try:
            person = Person.model_validate(data)
            values = registration_values(person)
        except (PydanticValidationError, PersonSkippedError) as exc:
            detail = getattr(exc, "message", None) or "the payload is not a registered person"
            return WebhookResult(200, "ignored", event, detail)
        _assert_fact(event, values)
        async with self._session_factory.begin() as db:
            if not await self._claim(db, raw_body, event):
                return WebhookResult(200, "duplicate", event, "already applied")
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
        existing = await db.scalar(select(ContactRow.id).where(ContactRow.email_key == key))
        if existing is not None:
            return int(existing)
        known = set(CORE_FIELDS) | set(await db.scalars(select(CustomFieldRow.alias)))
        fields = {name: value for name, value in fields.items() if name in known}
        created = await self._contacts.bulk_upsert([fields], source="livestorm", session=db)
        if key not in created.ids:
            # An answer the contact fields refuse must not cost the contact: names only.
            minimal = {k: v for k, v in fields.items() if k in ("email", "first_name", "last_name")}
            created = await self._contacts.bulk_upsert([minimal], source="livestorm", session=db)
        return created.ids.get(key)

    async def _session_ended(self, raw_body: bytes, data: Mapping[str, Any]) -> WebhookResult:
        try:
            session = Session.model_validate(data)
        except PydanticValidationError:
            return WebhookResult(200, "ignored", SESSION_ENDED, "the payload is not a session")
        if not session.event_id:
            return WebhookResult(200, "ignored", SESSION_ENDED, "the session names no event")
        async with self._session_factory.begin() as db:
            if not await self._claim(db, raw_body, SESSION_ENDED):
                return WebhookResult(200, "duplicate", SESSION_ENDED, "already applied")
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


def _parse(raw_body: bytes) -> tuple[str, Mapping[str, Any]]:
    """``(event name, data)`` of a delivery, or :class:`WebhookPayloadError`."""
    try:
        document = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadError("the webhook body is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise WebhookPayloadError('the webhook body is not a JSON:API document {"data": {…}}')
    meta = document.get("meta")
    event = meta.get("event") if isinstance(meta, dict) else None
    if not isinstance(event, str) or not event:
        # (inferred) Without a named event, a people payload still carries its state.
        event = "people.registered" if data["type"] == "people" else f"{data['type']}.updated"
    return event, data


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


def webhook_app(receiver: WebhookReceiver, *, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """An ASGI app that answers Livestorm's webhook POSTs on any path it is mounted at.

    2xx once the delivery is applied (or is a redelivery, or an event not applied), 401 on a
    bad signature, 400 on a malformed body, 413 on a body over ``max_body_bytes``, 500 when
    it could not be applied (Livestorm retries). The answer is a small JSON document.
    """

    async def receive(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return JSONResponse({"outcome": "invalid", "detail": "body too large"}, 413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body_bytes:
                return JSONResponse({"outcome": "invalid", "detail": "body too large"}, 413)
        result = await receiver.handle(bytes(body), request.headers)
        return JSONResponse(result.to_dict(), status_code=result.status_code)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
