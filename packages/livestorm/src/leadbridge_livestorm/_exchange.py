"""The sync data exchange: Livestorm people ↔ contacts, incremental by ``updated_since``.

Pull walks events changed since the cursor, their sessions changed since the cursor, and
each changed session's people changed since the cursor, 50 a page. Sessions that did not
change are never read. The cursor is opaque JSON:

* between pages of a run: ``{"since": S, "newest": N, "done": [session ids]}`` — a rerun
  (after a crash or the quota reserve) starts again from ``S`` but skips the sessions already
  done;
* after the last page: ``{"since": N + 1}`` (Livestorm's ``updated_since`` is inclusive, so
  the newest second already read is not read again).

Registrations and attendance are written by :class:`LivestormBatchWriter` (a ``BatchSynced``
subscriber) in the page's transaction; point actions fire there too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from typing_extensions import override

from leadbridge import ConfigurationError
from leadbridge.auth import BearerTokenAuth, StaticToken
from leadbridge.integrations import IntegrationSettingsService
from leadbridge.sync import (
    BaseDataExchange,
    ReportObject,
    ReportPage,
    ReportRequest,
    SyncObjectError,
    SyncRunError,
)

from ._client import LivestormClient
from ._errors import (
    LivestormAuthenticationError,
    PersonSkippedError,
    QuotaReserveReachedError,
)
from ._integration import LivestormCredentials, LivestormSettings
from ._jsonapi import to_timestamp
from ._mapping import person_to_contact_fields
from ._models import Event, Person, Session

#: The integration name the exchange reads its settings under.
INTEGRATION = "livestorm"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Builds a client from the stored settings and credentials (tests pass a transport here).
ClientFactory = Callable[[LivestormSettings, LivestormCredentials], LivestormClient]


@dataclass(frozen=True, slots=True)
class PulledPerson:
    """``ReportObject.extra`` of a pulled person: the person with its session and event."""

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
        "requests_per_second": settings.requests_per_second,
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
        "`leadbridge integrations configure livestorm --credential api_token=…`"
    )


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
    credentials of ``livestorm`` at the start of each report; ``client_factory`` turns them
    into a :class:`LivestormClient` (:func:`default_client`).
    """

    def __init__(
        self,
        *,
        settings_service: IntegrationSettingsService,
        client_factory: ClientFactory = default_client,
    ) -> None:
        self._settings_service = settings_service
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
        yielded = False
        async with client:
            calls = client.counter.count
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
                        async for page in people.pages():
                            objects: list[ReportObject] = []
                            errors: list[SyncObjectError] = []
                            for person in page.items:
                                newest = max(newest, _stamp(person.updated_at))
                                self._read_person(person, session, event, settings, objects, errors)
                            if page.is_last:
                                done.add(session.id)
                            used, calls = client.counter.count - calls, client.counter.count
                            yielded = True
                            yield ReportPage(
                                objects,
                                cursor=_progress(start, newest, done),
                                api_calls=used,
                                errors=errors,
                            )
            except QuotaReserveReachedError as exc:
                # Stop cleanly: the page below fails the run as partial and keeps the
                # progress; the next run resumes from it.
                yield ReportPage(
                    (),
                    cursor=_progress(start, newest, done),
                    api_calls=client.counter.count - calls,
                    errors=[SyncObjectError(f"stopped early: {exc}")],
                )
                return
            except LivestormAuthenticationError as exc:
                raise SyncRunError(
                    f"Livestorm refused the credentials (401): {exc}; "
                    "check the API token with `leadbridge livestorm ping`"
                ) from exc
            final = newest + 1 if newest else start
            if yielded or (final is not None and final != start):
                yield ReportPage(
                    (),
                    cursor=json.dumps({"since": final}),
                    api_calls=client.counter.count - calls,
                )

    @staticmethod
    def _read_person(
        person: Person,
        session: Session,
        event: Event,
        settings: LivestormSettings,
        objects: list[ReportObject],
        errors: list[SyncObjectError],
    ) -> None:
        try:
            fields = person_to_contact_fields(
                person, include_team_members=settings.import_team_members
            )
        except PersonSkippedError as exc:
            reason = f"skipped ({exc.reason}): {exc}"
            errors.append(SyncObjectError(reason, integration_id=person.id))
            return
        objects.append(
            ReportObject(
                integration_id=person.id,
                modified_at=person.updated_at or _EPOCH,
                fields=fields,
                extra=PulledPerson(person, session, event),
            )
        )
