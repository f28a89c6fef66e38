"""The sync data exchange: Livestorm people ↔ contacts, incremental by documented signals.

Pull lists the sessions (``GET /sessions``, or ``GET /events/{id}/sessions`` for the events
of the ``events`` setting; 50 a call; after the first pull, those starting at most
``session_window_days`` before the newest time seen, and every later one) and compares each
one's documented change signals — ``status``, ``registrants_count``, ``attendees_count``,
``updated_at`` — with what they were when its people were last read (:mod:`._pull_state`).
Only the people of new or changed sessions, and of sessions a webhook flagged
(``session.ended``, a registration for a session not stored yet), are read: 50 a call, with
``filter[updated_since]`` while Livestorm honours it for people (a person older than the
filter coming back proves it does not, and the pull stops using it), gathered into report
pages of about 500. A sync with no change costs the session list only: one call per 50
sessions in the window.

Registrations and attendance are written by :class:`LivestormBatchWriter` (a ``BatchSynced``
subscriber) in the page's transaction; point actions fire there too.

Push is registration: each ``registration_push`` pair (segment, session) is an
:class:`~leadbridge.sync.Audience`. The engine hands over the segment's members that have no
mapping under ``registration:SESSION`` yet; they are registered in bulk jobs of 50, and each
one registered, already registered (409) or already known from a pull gets its mapping (the
email, as Livestorm identifies a registration within a session), so it is not sent again.
"""

from __future__ import annotations

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
from leadbridge.db import utcnow
from leadbridge.http import ApiCallCounter, RetryPolicy
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
    LivestormAPIError,
    LivestormAuthenticationError,
    LivestormNotFoundError,
    LivestormPermissionError,
    LivestormRateLimitedError,
    PersonSkippedError,
    QuotaReserveReachedError,
)
from ._integration import LivestormCredentials, LivestormSettings
from ._jsonapi import to_timestamp
from ._mapping import person_to_contact_fields
from ._models import Event, Session
from ._pull_state import PEOPLE_ENDPOINT, PullState, session_signals
from ._push import ContactToRegister, RegistrationPusher, RegistrationPushResult
from ._records import PersonLike, PersonRecord
from ._store import ChangesHook, LivestormStore

#: The integration name the exchange reads its settings under.
INTEGRATION = "livestorm"
#: People gathered into one report page (ten API pages).
REPORT_PAGE = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 86_400

#: Builds a client from the stored settings and credentials (tests pass a transport here).
ClientFactory = Callable[[LivestormSettings, LivestormCredentials], LivestormClient]


@dataclass(frozen=True, slots=True)
class PulledPerson:
    """One registration of a pulled person: the person with its session and event.

    A person's ``ReportObject.extra`` is a tuple of them, one per session read in the page.
    """

    person: PersonLike
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
        "retries": RetryPolicy(rate_limit_budget=settings.rate_limit_budget),
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
    def unreported_calls(self) -> int:
        return self._counter.count - self._calls

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


def _changed_at(person: PersonLike) -> int:
    """When a registration last changed, as ``filter[updated_since]`` sees it."""
    if isinstance(person, PersonRecord):
        return person.changed_seconds
    detail = person.registrant_detail
    return max(_stamp(person.updated_at), _stamp(detail.updated_at if detail else None))


@dataclass(slots=True)
class _SessionToRead:
    session: Session
    #: ``filter[updated_since]`` for its people; ``None`` reads them all.
    since: int | None


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
        state = PullState.read(request.cursor)
        flagged = await self._flagged_sessions(state)
        async with client:
            buffer = _PageBuffer(client.counter)
            try:
                to_read = await self._sessions_to_read(client, settings, state, request, flagged)
                events = await self._events(client, {item.session.event_id for item in to_read})
                for item in to_read:
                    session, event = item.session, events[item.session.event_id or ""]
                    since = item.since if state.filter_works(PEOPLE_ENDPOINT) else None
                    seen_before = state.seen
                    people = client.session_people(session.id, updated_since=since)
                    announced = False
                    async for page in people.pages():
                        if not announced:  # the whole list's size, on its first page
                            buffer.announced += page.meta.record_count
                            announced = True
                        for skipped in page.skipped:
                            buffer.add(
                                SyncObjectError(
                                    f"Livestorm person: {skipped.reason}",
                                    integration_id=skipped.id,
                                )
                            )
                        for person in page.items:
                            changed = _changed_at(person)
                            if since is not None and changed and changed < since:
                                # Livestorm ignores the filter here: this read is a full one
                                # anyway; later reads go without it.
                                state.unfiltered.add(PEOPLE_ENDPOINT)
                            state.seen = max(state.seen, changed)
                            buffer.add(self._read_person(person, session, event, settings))
                        if page.is_last:
                            state.done.add(session.id)
                            state.sessions[session.id] = (session_signals(session), seen_before)
                        if buffer.full:
                            yield buffer.cut(state.write(finished=False))
            except (QuotaReserveReachedError, LivestormRateLimitedError) as exc:
                # Stop cleanly: what was read is applied, the stop fails the run as partial
                # and keeps the progress; the next run resumes from it.
                buffer.errors.append(SyncObjectError(f"stopped early: {exc}"))
                yield buffer.cut(state.write(finished=False))
                return
            except LivestormAPIError as exc:
                if buffer.pending or buffer.unreported_calls:
                    # The calls made so far are the run's too: report them (with what was
                    # read) before the run fails, so api_calls is what was sent.
                    yield buffer.cut(state.write(finished=False))
                if isinstance(exc, LivestormAuthenticationError):
                    raise SyncRunError(
                        f"Livestorm refused the credentials (401): {exc}; "
                        "check the API token with `leadbridge livestorm ping`"
                    ) from exc
                raise
            state.served = flagged & state.done
            final = state.write(finished=True)
            if buffer.pending or buffer.cuts or buffer.unreported_calls or final != request.cursor:
                yield buffer.cut(final)

    async def _flagged_sessions(self, state: PullState) -> set[str]:
        """Sessions a webhook flagged for a pull, once the flags the stored cursor says a
        finished run served are cleared (the cursor is stored only with that run's data)."""
        if state.served and state.started is not None:
            served_before = datetime.fromtimestamp(state.started, UTC)
            async with self._session_factory.begin() as db:
                await self._store.clear_pull_requests(
                    db, state.served, requested_before=served_before
                )
        if not state.in_run:
            state.started = utcnow().timestamp()
        state.served = set()
        async with self._session_factory() as db:
            return set(await self._store.pull_requests(db))

    async def _sessions_to_read(
        self,
        client: LivestormClient,
        settings: LivestormSettings,
        state: PullState,
        request: ReportRequest,
        flagged: set[str],
    ) -> list[_SessionToRead]:
        """The sessions whose people this run reads: new, changed, or flagged by a webhook.

        Lists the sessions of the window (every one on a first pull); sessions listed before
        that left the window are forgotten.
        """
        if not state.in_run:
            state.done = set()
            state.window_from = self._window_from(settings, state, request)
        wanted = set(settings.events)
        listings = (
            [client.sessions(event_id, date_from=state.window_from) for event_id in sorted(wanted)]
            if wanted
            else [client.sessions(date_from=state.window_from)]
        )
        listed: dict[str, Session] = {}
        for listing in listings:
            async for session in listing:
                if not wanted or session.event_id in wanted:
                    listed[session.id] = session
        for session_id in sorted(flagged - listed.keys()):
            # Flagged by a webhook but outside the listing: read it on its own.
            try:
                session = await client.session(session_id)
            except LivestormNotFoundError:
                continue
            if not wanted or session.event_id in wanted:
                listed[session.id] = session
        to_read = []
        for session in listed.values():
            state.seen = max(state.seen, _stamp(session.updated_at))
            known = state.sessions.get(session.id)
            if session.id in state.done or not session.event_id:
                continue
            if known is None:
                to_read.append(_SessionToRead(session, None))
            elif known[0] != session_signals(session) or session.id in flagged:
                to_read.append(_SessionToRead(session, known[1] or None))
        state.sessions = {sid: entry for sid, entry in state.sessions.items() if sid in listed}
        return to_read

    @staticmethod
    def _window_from(
        settings: LivestormSettings, state: PullState, request: ReportRequest
    ) -> int | None:
        """``filter[date_from]`` of the session list: the window, or the first-sync date."""
        if not state.sessions:
            return to_timestamp(request.since) if request.since is not None else None
        if not settings.session_window_days or not state.seen:
            return None
        return max(0, state.seen - settings.session_window_days * DAY)

    @staticmethod
    async def _events(client: LivestormClient, event_ids: set[str | None]) -> dict[str, Event]:
        """The events of the sessions to read: one by id, or the whole list for several."""
        wanted = {event_id for event_id in event_ids if event_id}
        if not wanted:
            return {}
        if len(wanted) == 1:
            (event_id,) = wanted
            return {event_id: await client.event(event_id)}
        found = {event.id: event async for event in client.events() if event.id in wanted}
        for event_id in sorted(wanted - found.keys()):
            found[event_id] = await client.event(event_id)
        return found

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
        person: PersonLike, session: Session, event: Event, settings: LivestormSettings
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
