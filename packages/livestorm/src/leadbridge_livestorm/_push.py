"""Registering contacts on a Livestorm session: bulk jobs of 50, the single endpoint as the
fallback, ``409`` taken as "already registered", each batch's results stored as it ends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadbridge.contacts import email_key

from ._answer_lookup import FieldValue
from ._client import MAX_BULK_REGISTRATIONS, LivestormClient, Registrant
from ._errors import (
    AlreadyRegisteredError,
    ContactsAllowanceReachedError,
    LivestormAPIError,
    LivestormAuthenticationError,
    LivestormPermissionError,
    QuotaReserveReachedError,
)
from ._models import TaskOutcome
from ._records import PersonLike
from ._store import ChangesHook, LivestormStore, RegistrationChange, RegistrationLink
from ._tables import SessionRow


@dataclass(frozen=True, slots=True)
class ContactToRegister:
    """A contact to register: its id, email, names and form answers by Livestorm field id."""

    contact_id: int
    email: str
    first_name: str | None = None
    last_name: str | None = None
    answers: Mapping[str, FieldValue] = field(default_factory=dict)

    def registrant(self, tracking: Mapping[str, str | None]) -> Registrant:
        return Registrant(
            email=self.email.strip(),
            first_name=self.first_name or None,
            last_name=self.last_name or None,
            answers=dict(self.answers),
            **tracking,
        )


@dataclass(frozen=True, slots=True)
class RegistrationFailure:
    """A contact Livestorm did not register, and why (Livestorm's own words when it said)."""

    contact_id: int
    email: str
    reason: str


@dataclass
class RegistrationPushResult:
    """The outcome of :meth:`RegistrationPusher.push`, by contact id.

    - ``registered``: newly registered by this push;
    - ``already_registered``: Livestorm answered that they were (409, a conflict task);
    - ``known``: registered as far as the stored rows know, so not sent at all;
    - ``failed``: refused, with the reason;
    - ``not_attempted``: left when the push stopped early (``stopped`` says why: the quota
      reserve, the contacts allowance); a later push picks them up.

    ``changes`` are the registration rows this push created or linked (for point actions).
    """

    session_id: str
    registered: list[int] = field(default_factory=list)
    already_registered: list[int] = field(default_factory=list)
    known: list[int] = field(default_factory=list)
    failed: list[RegistrationFailure] = field(default_factory=list)
    not_attempted: list[int] = field(default_factory=list)
    stopped: str | None = None
    changes: list[RegistrationChange] = field(default_factory=list)
    bulk_jobs: int = 0
    single_registrations: int = 0

    @property
    def complete(self) -> bool:
        return self.stopped is None


@dataclass
class _Outcome:
    contact: ContactToRegister
    kind: Literal["registered", "already", "failed"]
    person: PersonLike | None = None
    person_id: str | None = None
    reason: str = ""


class _Stop(Exception):
    """Ends the push early; ``cause`` is raised again when it is not a clean stop."""

    def __init__(self, reason: str, cause: LivestormAPIError, *, raise_it: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
        self.raise_it = raise_it


def _stop_for(exc: LivestormAPIError) -> _Stop | None:
    if isinstance(exc, QuotaReserveReachedError | ContactsAllowanceReachedError):
        return _Stop(exc.message, exc, raise_it=False)
    if isinstance(exc, LivestormAuthenticationError | LivestormPermissionError):
        return _Stop(exc.message, exc, raise_it=True)
    return None


class RegistrationPusher:
    """Registers contacts on a session through the bulk job endpoint, batch by batch.

    ::

        pusher = RegistrationPusher(client, session_factory)
        result = await pusher.push(session_id, contacts)

    Contacts whose registration is already stored are not sent. Each batch of up to 50 goes
    out as one bulk job polled to its end; items the job did not settle — or a whole batch
    whose job could not be created or failed — are sent one by one to the single endpoint.
    ``409`` and conflict tasks count as already registered. Each batch's registrations are
    written (``contact_id`` linked) in their own transaction as soon as the batch ends.
    ``tracking`` (``utm_source``…) is sent with every registration; ``on_changes(changes,
    session)`` runs in each batch's transaction with the registrations it created or linked
    (the container awards the "registered" point actions there).
    """

    def __init__(
        self,
        client: LivestormClient,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        store: LivestormStore | None = None,
        batch_size: int = MAX_BULK_REGISTRATIONS,
        tracking: Mapping[str, str | None] | None = None,
        on_changes: ChangesHook | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BULK_REGISTRATIONS:
            raise ValueError(f"batch_size must be 1 to {MAX_BULK_REGISTRATIONS}")
        self._client = client
        self._session_factory = session_factory
        self._store = store or LivestormStore()
        self._batch_size = batch_size
        self._tracking = dict(tracking or {})
        self._on_changes = on_changes

    async def push(
        self, session_id: str, contacts: Iterable[ContactToRegister]
    ) -> RegistrationPushResult:
        result = RegistrationPushResult(session_id=session_id)
        pending = self._unique(contacts, result)
        if not pending:
            return result
        event_id = await self._event_id(session_id)
        pending = await self._not_registered(session_id, pending, result)
        for start in range(0, len(pending), self._batch_size):
            batch = pending[start : start + self._batch_size]
            outcomes: list[_Outcome] = []
            try:
                await self._run_batch(session_id, batch, outcomes, result)
            except _Stop as stop:
                done = {outcome.contact.contact_id for outcome in outcomes}
                result.stopped = stop.reason
                result.not_attempted.extend(
                    c.contact_id for c in pending[start:] if c.contact_id not in done
                )
                await self._record(session_id, event_id, outcomes, result)
                if stop.raise_it:
                    raise stop.cause from None
                return result
            await self._record(session_id, event_id, outcomes, result)
        return result

    # -- steps -----------------------------------------------------------------------------

    def _unique(
        self, contacts: Iterable[ContactToRegister], result: RegistrationPushResult
    ) -> list[ContactToRegister]:
        seen: set[str] = set()
        unique = []
        for contact in contacts:
            if not contact.email or not contact.email.strip():
                result.failed.append(
                    RegistrationFailure(
                        contact.contact_id, contact.email, "the contact has no email"
                    )
                )
                continue
            key = email_key(contact.email)
            if key not in seen:
                seen.add(key)
                unique.append(contact)
        return unique

    async def _event_id(self, session_id: str) -> str:
        """The session's event, from the stored row or (once) from the API."""
        async with self._session_factory() as db:
            event_id = await db.scalar(
                select(SessionRow.event_id).where(SessionRow.id == session_id)
            )
        if event_id is not None:
            return event_id
        session = await self._client.session(session_id)
        if not session.event_id:
            raise LivestormAPIError(f"Livestorm session {session_id} does not name its event")
        async with self._session_factory.begin() as db:
            # The event is a stub until the next pull: flag the session for one.
            await self._store.ensure_session(db, session.id, session.event_id)
            await self._store.upsert_sessions(db, [session])
        return session.event_id

    async def _not_registered(
        self,
        session_id: str,
        contacts: list[ContactToRegister],
        result: RegistrationPushResult,
    ) -> list[ContactToRegister]:
        async with self._session_factory() as db:
            ids, emails = await self._store.registered(
                db,
                session_id,
                contact_ids=[c.contact_id for c in contacts],
                emails=[c.email for c in contacts],
            )
        left = []
        for contact in contacts:
            if contact.contact_id in ids or contact.email.strip().lower() in emails:
                result.known.append(contact.contact_id)
            else:
                left.append(contact)
        return left

    async def _run_batch(
        self,
        session_id: str,
        batch: list[ContactToRegister],
        outcomes: list[_Outcome],
        result: RegistrationPushResult,
    ) -> None:
        registrants = [contact.registrant(self._tracking) for contact in batch]
        unsettled: list[ContactToRegister] = list(batch)
        try:
            bulk = await self._client.register_bulk(session_id, registrants)
        except LivestormAPIError as exc:
            stop = _stop_for(exc)
            if stop is not None:
                raise stop from exc
            # The job could not be created or did not end: the single endpoint takes over.
        else:
            result.bulk_jobs += 1
            unsettled = []
            # Registered only on a task's proof; what no task proves goes to the single
            # endpoint, whose 201 or 409 settles it.
            for contact, (_registrant, outcome, task) in zip(batch, bulk.outcomes(), strict=True):
                if task is None or outcome is TaskOutcome.UNKNOWN:
                    unsettled.append(contact)
                elif outcome is TaskOutcome.REGISTERED:
                    outcomes.append(_Outcome(contact, "registered", person_id=task.person_id))
                elif outcome is TaskOutcome.ALREADY_REGISTERED:
                    outcomes.append(_Outcome(contact, "already", person_id=task.person_id))
                else:
                    outcomes.append(_Outcome(contact, "failed", reason=task.reason))
        for contact in unsettled:
            outcomes.append(await self._register_one(session_id, contact, result))

    async def _register_one(
        self, session_id: str, contact: ContactToRegister, result: RegistrationPushResult
    ) -> _Outcome:
        try:
            result.single_registrations += 1
            person = await self._client.register(session_id, contact.registrant(self._tracking))
        except AlreadyRegisteredError:
            return _Outcome(contact, "already", person=await self._find(session_id, contact.email))
        except LivestormAPIError as exc:
            stop = _stop_for(exc)
            if stop is not None:
                raise stop from exc
            return _Outcome(contact, "failed", reason=exc.message)
        return _Outcome(contact, "registered", person=person)

    async def _find(self, session_id: str, email: str) -> PersonLike | None:
        """The registration a 409 collided with (one call), to link it; ``None`` if unknown."""
        try:
            async for page in self._client.session_people(session_id, email=email).pages():
                return page.items[0] if page.items else None
        except LivestormAPIError as exc:
            stop = _stop_for(exc)
            if stop is not None and stop.raise_it:
                raise stop from exc
        return None

    async def _record(
        self,
        session_id: str,
        event_id: str,
        outcomes: list[_Outcome],
        result: RegistrationPushResult,
    ) -> None:
        people: list[PersonLike] = []
        contact_ids: dict[str, int] = {}
        links: list[RegistrationLink] = []
        for outcome in outcomes:
            contact = outcome.contact
            if outcome.kind == "failed":
                result.failed.append(
                    RegistrationFailure(contact.contact_id, contact.email, outcome.reason)
                )
                continue
            target = (
                result.registered if outcome.kind == "registered" else result.already_registered
            )
            target.append(contact.contact_id)
            if outcome.person is not None:
                people.append(outcome.person)
                contact_ids[outcome.person.id] = contact.contact_id
            elif outcome.person_id:
                links.append(
                    RegistrationLink(
                        session_id=session_id,
                        event_id=event_id,
                        person_id=outcome.person_id,
                        contact_id=contact.contact_id,
                        email=contact.email.strip(),
                    )
                )
        if not people and not links:
            return
        async with self._session_factory.begin() as db:
            changes: list[RegistrationChange] = []
            if people:
                written = await self._store.upsert_registrations(
                    db, people, contact_ids=contact_ids, session_id=session_id, event_id=event_id
                )
                changes.extend(written.changes)
            if links:
                linked = await self._store.link_registrations(db, links)
                changes.extend(linked.changes)
            if self._on_changes is not None and changes:
                await self._on_changes(changes, db)
            result.changes.extend(changes)
