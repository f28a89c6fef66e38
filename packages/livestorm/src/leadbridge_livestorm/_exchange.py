"""The sync data exchange: Livestorm people ↔ contacts, incremental by ``updated_since``.

Pull walks events changed since the cursor, their sessions changed since the cursor, and
each changed session's people changed since the cursor, 50 a call, gathered into report
pages of about 500. Sessions that did not change are never read. The cursor is opaque JSON:

* between pages of a run: ``{"since": S, "newest": N, "done": [session ids]}`` — a rerun
  (after a crash or the quota reserve) starts again from ``S`` but skips the sessions already
  done;
* after the last page: ``{"since": N + 1}`` (Livestorm's ``updated_since`` is inclusive, so
  the newest second already read is not read again).

Registrations and attendance are written by :class:`LivestormBatchWriter` (a ``BatchSynced``
subscriber) in the page's transaction; point actions fire there too.

Push is registration: each ``registration_push`` pair (segment, session) is an
:class:`~leadbridge.sync.Audience`. The engine hands over the segment's members that have no
mapping under ``registration:SESSION`` yet; they are registered in bulk jobs of 50, and each
one registered, already registered (409) or already known from a pull gets its mapping (the
email, as Livestorm identifies a registration within a session), so it is not sent again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typing_extensions import override

from leadbridge import ConfigurationError
from leadbridge.auth import BearerTokenAuth, StaticToken
from leadbridge.contacts import email_key
from leadbridge.http import ApiCallCounter
from leadbridge.integrations import IntegrationSettingsService
from leadbridge.sync import (
    Audience,
    BaseDataExchange,
    ObjectResult,
    OrderItem,
    OrderResult,
    ReportObject,
    ReportPage,
    ReportRequest,
    SyncObjectError,
    SyncObjectSkipped,
    SyncRunError,
)

from ._client import LivestormClient
from ._errors import (
    LivestormAuthenticationError,
    LivestormNotFoundError,
    LivestormPermissionError,
    PersonSkippedError,
    QuotaReserveReachedError,
)
from ._integration import LivestormCredentials, LivestormSettings
from ._jsonapi import to_timestamp
from ._mapping import person_to_contact_fields
from ._models import Event, Person, Session
from ._push import ContactToRegister, RegistrationPusher, RegistrationPushResult
from ._store import ChangesHook, LivestormStore

#: The integration name the exchange reads its settings under.
INTEGRATION = "livestorm"
#: People gathered into one report page (ten API pages).
REPORT_PAGE = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Builds a client from the stored settings and credentials (tests pass a transport here).
ClientFactory = Callable[[LivestormSettings, LivestormCredentials], LivestormClient]


@dataclass(frozen=True, slots=True)
class PulledPerson:
    """One registration of a pulled person: the person with its session and event.

    A person's ``ReportObject.extra`` is a tuple of them, one per session read in the page.
    """

    person: Person
    session: Session
    event: Event


def default_client(
    settings: LivestormSettings, credentials: LivestormCredentials
) -> LivestormClient:
    """A client for the stored settings: API token (raw header) or OAuth2 bearer token."""
    base_url = str(settings.base_url)
    common: dict[str, Any] = {
        "base_url": base_url,
        "requests_per_second": settings.requests_per_second or None,
        "quota_reserve": settings.quota_reserve,
    }
    if credentials.api_token is not None:
        return LivestormClient(api_token=credentials.api_token.get_secret_value(), **common)
    if credentials.oauth_access_token is not None:
        token = StaticToken(credentials.oauth_access_token.get_secret_value())
        auth: httpx.Auth = BearerTokenAuth(token)
        return LivestormClient(auth=auth, **common)
    raise ConfigurationError(
        "livestorm has no credentials; set one with "
        "`leadbridge integrations configure livestorm --secret api_token`"
    )


class _PageBuffer:
    """People read from API pages of 50, gathered into report pages of about REPORT_PAGE.

    The engine's cost is per report page (one transaction, ~25 statements), not per person.
    A person registered on several sessions keeps their id, and a report page holds an id
    once: the copies become one object carrying every registration read (``extra``).
    """

    def __init__(self, counter: ApiCallCounter) -> None:
        self.objects: list[ReportObject] = []
        self.errors: list[SyncObjectError] = []
        self._at: dict[str, int] = {}
        self.cuts = 0
        self._counter = counter
        self._calls = counter.count
        #: registrations the API announced (``meta.record_count``), read, and objects cut:
        #: a page's ``total`` is what was cut plus what is announced but not read yet
        self.announced = 0
        self._read = 0
        self._cut_objects = 0

    @property
    def pending(self) -> bool:
        return bool(self.objects or self.errors)

    @property
    def full(self) -> bool:
        return len(self.objects) + len(self.errors) >= REPORT_PAGE

    def add(self, read: ReportObject | SyncObjectError) -> None:
        self._read += 1
        if isinstance(read, SyncObjectError):
            self.errors.append(read)
            return
        at = self._at.get(read.integration_id)
        if at is None:
            self._at[read.integration_id] = len(self.objects)
            self.objects.append(read)
            return
        held = self.objects[at]
        newer = read if read.modified_at >= held.modified_at else held
        self.objects[at] = replace(newer, extra=(*held.extra, *read.extra))

    def cut(self, cursor: str) -> ReportPage:
        """The gathered people as a report page with the calls they cost; starts anew."""
        used, self._calls = self._counter.count - self._calls, self._counter.count
        self._cut_objects += len(self.objects)
        total = self._cut_objects + max(0, self.announced - self._read)
        page = ReportPage(
            self.objects, cursor=cursor, api_calls=used, total=total, errors=self.errors
        )
        self.objects, self.errors, self._at = [], [], {}
        self.cuts += 1
        return page


def _stamp(value: datetime | None) -> int:
    return to_timestamp(value) if value is not None else 0


def _read_cursor(cursor: str | None, since: datetime | None) -> tuple[int | None, int, set[str]]:
    """``(since, newest, done)`` from a stored cursor (or the first-sync date)."""
    if cursor:
        try:
            state = json.loads(cursor)
            start = state.get("since")
            return (
                int(start) if start is not None else None,
                int(state.get("newest") or 0),
                set(state.get("done") or ()),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise SyncRunError(f"the stored livestorm cursor {cursor!r} is unreadable") from exc
    start = to_timestamp(since) if since is not None else None
    return start, 0, set()


def _progress(start: int | None, newest: int, done: set[str]) -> str:
    return json.dumps({"since": start, "newest": newest, "done": sorted(done)})


class LivestormExchange(BaseDataExchange):
    """Livestorm people as contacts (pull) and registrations of segments (push).

    Built from explicit values: ``settings_service`` reads the stored settings and
    credentials of ``livestorm`` at the start of each report and push; ``client_factory``
    turns them into a :class:`LivestormClient` (:func:`default_client`). Push registers the
    segments of the ``registration_push`` setting on their sessions (one audience per pair)
    through :class:`RegistrationPusher`, which writes the registrations with ``store`` and
    hands what it created to ``on_registered`` in the same transaction (point actions).
    """

    def __init__(
        self,
        *,
        settings_service: IntegrationSettingsService,
        session_factory: async_sessionmaker[AsyncSession],
        store: LivestormStore,
        on_registered: ChangesHook | None = None,
        client_factory: ClientFactory = default_client,
    ) -> None:
        self._settings_service = settings_service
        self._session_factory = session_factory
        self._store = store
        self._on_registered = on_registered
        self._client_factory = client_factory

    async def load(self) -> tuple[LivestormSettings, LivestormCredentials]:
        """The stored settings and credentials, validated."""
        stored = await self._settings_service.get(INTEGRATION)
        credentials = await self._settings_service.credentials(INTEGRATION)
        return (
            LivestormSettings.model_validate(stored.settings),
            LivestormCredentials.model_validate(credentials),
        )

    async def client(self) -> tuple[LivestormSettings, LivestormClient]:
        settings, credentials = await self.load()
        return settings, self._client_factory(settings, credentials)

    @override
    async def report(self, request: ReportRequest) -> AsyncIterator[ReportPage]:
        if request.object != "people":
            raise SyncRunError(f"livestorm has no object {request.object!r} (only 'people')")
        settings, client = await self.client()
        start, newest, done = _read_cursor(request.cursor, request.since)
        wanted = set(settings.events)
        async with client:
            buffer = _PageBuffer(client.counter)
            try:
                async for event in client.events(updated_since=start):
                    if wanted and event.id not in wanted:
                        continue
                    newest = max(newest, _stamp(event.updated_at))
                    async for session in client.sessions(event.id, updated_since=start):
                        newest = max(newest, _stamp(session.updated_at))
                        if session.id in done:
                            continue
                        people = client.session_people(session.id, updated_since=start)
                        announced = False
                        async for page in people.pages():
                            if not announced:  # the whole list's size, on its first page
                                buffer.announced += page.meta.record_count
                                announced = True
                            for person in page.items:
                                newest = max(newest, _stamp(person.updated_at))
                                buffer.add(self._read_person(person, session, event, settings))
                            if page.is_last:
                                done.add(session.id)
                            if buffer.full:
                                yield buffer.cut(_progress(start, newest, done))
            except QuotaReserveReachedError as exc:
                # Stop cleanly: what was read is applied, the stop fails the run as partial
                # and keeps the progress; the next run resumes from it.
                buffer.errors.append(SyncObjectError(f"stopped early: {exc}"))
                yield buffer.cut(_progress(start, newest, done))
                return
            except LivestormAuthenticationError as exc:
                raise SyncRunError(
                    f"Livestorm refused the credentials (401): {exc}; "
                    "check the API token with `leadbridge livestorm ping`"
                ) from exc
            final = newest + 1 if newest else start
            if buffer.pending or buffer.cuts or (final is not None and final != start):
                yield buffer.cut(json.dumps({"since": final}))

    # -- push: registrations ---------------------------------------------------------------

    @override
    async def audiences(self) -> Sequence[Audience]:
        settings, _credentials = await self.load()
        return [
            Audience(
                object=registration_object(pair.session_id),
                segment=pair.segment,
                target=pair.session_id,
                fields_from="people",
            )
            for pair in settings.registration_push
        ]

    @override
    async def add_to_audience(self, audience: Audience, items: Sequence[OrderItem]) -> OrderResult:
        _settings, client = await self.client()
        contacts = [_to_register(item) for item in items]
        async with client:
            pusher = RegistrationPusher(
                client,
                self._session_factory,
                store=self._store,
                on_changes=self._on_registered,
            )
            try:
                pushed = await pusher.push(audience.target, contacts)
            except LivestormAuthenticationError as exc:
                raise SyncRunError(
                    f"Livestorm refused the credentials (401): {exc}; "
                    "check the API token with `leadbridge livestorm ping`"
                ) from exc
            except LivestormPermissionError as exc:
                raise SyncRunError(f"Livestorm refused the registrations (403): {exc}") from exc
            except LivestormNotFoundError as exc:
                # A session that is gone fails its members, not the run: the other
                # pairs still push.
                reason = f"Livestorm session {audience.target} was not found: {exc}"
                return OrderResult(
                    [ObjectResult.failed(c.contact_id, reason) for c in contacts],
                    api_calls=client.counter.count,
                )
            return OrderResult(_results(contacts, pushed), api_calls=client.counter.count)

    @staticmethod
    def _read_person(
        person: Person, session: Session, event: Event, settings: LivestormSettings
    ) -> ReportObject | SyncObjectError:
        try:
            fields = person_to_contact_fields(
                person, include_team_members=settings.import_team_members
            )
        except PersonSkippedError as exc:
            reason = f"skipped ({exc.reason}): {exc}"
            return SyncObjectSkipped(reason, integration_id=person.id)
        return ReportObject(
            integration_id=person.id,
            modified_at=person.updated_at or _EPOCH,
            fields=fields,
            extra=(PulledPerson(person, session, event),),
        )


def registration_object(session_id: str) -> str:
    """The object push records the registrations of ``session_id`` under (its mappings)."""
    return f"registration:{session_id}"


def _to_register(item: OrderItem) -> ContactToRegister:
    fields = dict(item.fields)
    email = fields.pop("email", None)
    first_name = fields.pop("first_name", None)
    last_name = fields.pop("last_name", None)
    return ContactToRegister(
        contact_id=item.contact_id,
        email=str(email or ""),
        first_name=str(first_name) if first_name else None,
        last_name=str(last_name) if last_name else None,
        answers={k: v for k, v in fields.items() if v is not None},
    )


def _results(
    contacts: Sequence[ContactToRegister], pushed: RegistrationPushResult
) -> list[ObjectResult]:
    """One result per contact; a registration is identified by its email in its session."""
    ok = {*pushed.registered, *pushed.already_registered, *pushed.known}
    failed = {f.contact_id: f.reason for f in pushed.failed}
    left = set(pushed.not_attempted)
    results = []
    for contact in contacts:
        cid = contact.contact_id
        if cid in ok:
            results.append(ObjectResult(cid, email_key(contact.email)))
        elif cid in failed:
            results.append(ObjectResult.failed(cid, failed[cid]))
        elif cid in left:
            reason = f"not registered yet, the push stopped early: {pushed.stopped}"
            results.append(ObjectResult.failed(cid, reason))
        else:
            results.append(ObjectResult.failed(cid, "Livestorm gave no outcome for it"))
    return results
