"""What every resolver gets: the services, the request's caller and its DataLoaders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from leadbridge import ApiToken, ContactService, CustomFieldService, Scope, TokenService
from leadbridge.contacts import Contact, ContactRepository, FieldSpec, email_key, load_custom_fields
from leadbridge.integrations import (
    BaseContactData,
    IntegrationRegistry,
    IntegrationSettingsService,
)
from leadbridge.jobs import JobQueue, ScheduleService
from leadbridge.points import GroupScore, PointRepository, PointsService
from leadbridge.segments import Segment, SegmentRepository, SegmentService
from leadbridge.sync import ObjectMapping, SyncRunRepository, SyncRunService

from ._errors import ForbiddenError, UnauthenticatedError
from ._sync_runner import SyncRunner

log = logging.getLogger("leadbridge.gateway")


@dataclass(frozen=True)
class GatewayServices:
    """The core services the schema uses, wired by :class:`GatewayContainer`."""

    #: Read-only sessions (on SQLite they never wait for the write lock).
    read_session_factory: async_sessionmaker[AsyncSession]
    contact_service: ContactService
    custom_field_service: CustomFieldService
    token_service: TokenService
    #: Set-based reads through the request's session: one statement per page, batch or count.
    contacts: ContactRepository
    segments: SegmentRepository
    points: PointRepository
    sync_runs: SyncRunRepository
    segment_service: SegmentService
    integration_registry: IntegrationRegistry
    integration_settings_service: IntegrationSettingsService
    sync_run_service: SyncRunService
    sync_runner: SyncRunner
    points_service: PointsService
    schedule_service: ScheduleService
    job_queue: JobQueue


class Reads:
    """The read-only session of one request, opened at the first read.

    Sharing it makes a request one connection checkout and one transaction, whose reads all
    see the same snapshot. DataLoaders of one request may dispatch at once: a lock takes
    their statements in turn. With ``shared=False`` (websocket connections, which live long)
    every read gets a session of its own.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession], *, shared: bool) -> None:
        self._factory = factory
        self._shared = shared
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        if not self._shared:
            async with self._factory() as own:
                yield own
            return
        async with self._lock:
            if self._session is None:
                self._session = self._factory()
            try:
                yield self._session
            except BaseException:
                await self._drop()  # a failed statement may have aborted the transaction
                raise

    async def close(self) -> None:
        """Let the session go, once whoever reads through it now has finished."""
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            await session.close()
        except Exception:  # a statement cancelled midway can leave the connection unusable
            log.debug("closing a read session failed; dropping its connection", exc_info=True)
            with suppress(Exception):
                await session.invalidate()


class Loaders:
    """Per-request batching and caching: every list field costs one statement per level."""

    def __init__(self, services: GatewayServices, reads: Reads) -> None:
        self._services = services
        self._reads = reads
        self.contact = DataLoader[int, Contact | None](self._load_contacts)
        self.contact_by_email = DataLoader[str, Contact | None](self._load_by_email)
        self.tags = DataLoader[int, list[str]](self._load_tags)
        self.segments_of = DataLoader[int, list[Segment]](self._load_segments_of)
        self.mappings = DataLoader[int, list[ObjectMapping]](self._load_mappings)
        self.segment = DataLoader[int, Segment | None](self._load_segments)
        self.group_scores = DataLoader[int, list[GroupScore]](self._load_group_scores)
        self._custom_fields: asyncio.Future[list[FieldSpec]] | None = None
        self._contact_data: dict[str, DataLoader[int, Sequence[Mapping[str, Any]]]] = {}

    async def _load_contacts(self, ids: Sequence[int]) -> list[Contact | None]:
        async with self._reads.session() as session:
            found = await self._services.contacts.by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def _load_by_email(self, emails: Sequence[str]) -> list[Contact | None]:
        async with self._reads.session() as session:
            found = await self._services.contacts.by_emails(session, emails)
        return [found.get(email_key(e)) for e in emails]

    async def _load_tags(self, ids: Sequence[int]) -> list[list[str]]:
        async with self._reads.session() as session:
            found = await self._services.contacts.tags_by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    async def _load_segments_of(self, ids: Sequence[int]) -> list[list[Segment]]:
        async with self._reads.session() as session:
            found = await self._services.segments.by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    async def _load_mappings(self, ids: Sequence[int]) -> list[list[ObjectMapping]]:
        async with self._reads.session() as session:
            found = await self._services.sync_runs.mappings_by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    async def _load_segments(self, ids: Sequence[int]) -> list[Segment | None]:
        async with self._reads.session() as session:
            found = await self._services.segments.by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def _load_group_scores(self, ids: Sequence[int]) -> list[list[GroupScore]]:
        async with self._reads.session() as session:
            found = await self._services.points.group_scores_by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    def contact_data(self, source: BaseContactData) -> DataLoader[int, Sequence[Mapping[str, Any]]]:
        """The loader of one plugin's contact data (``Contact.<source.name>``)."""
        loader = self._contact_data.get(source.name)
        if loader is None:

            async def load(ids: Sequence[int]) -> list[Sequence[Mapping[str, Any]]]:
                async with self._reads.session() as session:
                    found = await source.load(session, ids)
                return [found.get(i, ()) for i in ids]

            loader = self._contact_data[source.name] = DataLoader(load)
        return loader

    async def _load_custom_fields(self) -> list[FieldSpec]:
        async with self._reads.session() as session:
            return await load_custom_fields(session)

    def custom_fields(self) -> asyncio.Future[list[FieldSpec]]:
        """Custom field definitions, read once per request."""
        if self._custom_fields is None:
            self._custom_fields = asyncio.ensure_future(self._load_custom_fields())
        return asyncio.shield(self._custom_fields)  # see GatewayContext.token


class GatewayContext:
    """The context of one HTTP request or one websocket connection.

    Close it (``await context.close()``) when the request ends.
    """

    def __init__(
        self,
        services: GatewayServices,
        *,
        authorization: str | None = None,
        request: Any = None,
        response: Any = None,
        shared_reads: bool = True,
    ) -> None:
        self.services = services
        self.request = request
        self.response = response
        self.reads = Reads(services.read_session_factory, shared=shared_reads)
        self.loaders = Loaders(services, self.reads)
        #: graphql-transport-ws ``connection_init`` payload, set by Strawberry.
        self.connection_params: Mapping[str, Any] | None = None
        self._authorization = authorization
        self._token: asyncio.Future[ApiToken] | None = None
        #: Set when the database was too busy to answer: the ``Retry-After`` seconds.
        self.retry_after: int | None = None

    async def close(self) -> None:
        await self.reads.close()

    async def before_write(self) -> None:
        """Let the read connection go before a mutation takes a writing one.

        A request holds one pooled connection at a time: holding the read one while waiting
        for a writer lets a burst of requests take every connection and wait for each other.
        """
        await self.reads.close()

    async def save_token_use(self) -> None:
        """Write when the caller's token was last used (after the request let its reads go)."""
        tokens = self.services.token_service
        if not tokens.has_unsaved_uses:
            return
        try:
            await tokens.save_last_used()
        except Exception as exc:  # the request itself succeeded; the next one tries again
            # The class only: a driver's message may carry the host or the user.
            log.warning(
                "could not record when an API token was last used (%s); will retry",
                type(exc).__name__,
            )

    async def after_write(self) -> None:
        """Forget what this request read: a mutation just changed the data behind it."""
        await self.reads.close()
        self.loaders = Loaders(self.services, self.reads)

    def _credentials(self) -> str | None:
        if self._authorization is not None:
            return self._authorization
        params = self.connection_params or {}
        for key in ("Authorization", "authorization"):
            value = params.get(key)
            if isinstance(value, str):
                return value
        return None

    async def _authenticate(self) -> ApiToken:
        header = self._credentials()
        if header is None or not header.strip():
            raise UnauthenticatedError(
                "authentication required: send the header `Authorization: Bearer <token>` "
                "with an API token (`leadbridge tokens create`)"
            )
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise UnauthenticatedError("the Authorization header must read `Bearer <token>`")
        async with self.reads.session() as session:
            token = await self.services.token_service.authenticate(secret.strip(), session=session)
        if token is None:
            raise UnauthenticatedError(
                "the API token is unknown, revoked or expired: "
                "create one with `leadbridge tokens create`"
            )
        return token

    def token(self) -> asyncio.Future[ApiToken]:
        """The caller's token (authenticated once per request); raises if there is none."""
        if self._token is None:
            self._token = asyncio.ensure_future(self._authenticate())
        # Shielded: the executor cancels the other root fields when one fails, and a shared
        # read cancelled while it takes its pooled connection breaks that connection's record.
        return asyncio.shield(self._token)

    async def require(self, scope: Scope | None, what: str) -> ApiToken:
        """The caller's token if it has ``scope`` (``None``: any valid token)."""
        token = await self.token()
        if scope is not None and not token.allows(scope):
            raise ForbiddenError(
                f"this API token lacks the scope `{scope.value}`, which `{what}` needs"
            )
        return token
