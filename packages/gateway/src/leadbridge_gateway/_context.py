"""What every resolver gets: the services, the request's caller and its DataLoaders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from leadbridge import ApiToken, ContactService, CustomFieldService, Scope, TokenService
from leadbridge.contacts import FieldSpec, email_key, load_custom_fields
from leadbridge.integrations import (
    BaseContactData,
    IntegrationRegistry,
    IntegrationSettingsService,
)
from leadbridge.points import PointsService
from leadbridge.segments import SegmentService
from leadbridge.sync import SyncRunService

from ._errors import ForbiddenError, UnauthenticatedError
from ._repository import ContactRepository
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
    contacts: ContactRepository
    segment_service: SegmentService
    integration_registry: IntegrationRegistry
    integration_settings_service: IntegrationSettingsService
    sync_run_service: SyncRunService
    sync_runner: SyncRunner
    points_service: PointsService


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
                await self.close()  # a failed statement may have aborted the transaction
                raise

    async def close(self) -> None:
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
        self.contact = DataLoader[int, Row[Any] | None](self._load_contacts)
        self.contact_by_email = DataLoader[str, Row[Any] | None](self._load_by_email)
        self.tags = DataLoader[int, list[str]](self._load_tags)
        self.segments_of = DataLoader[int, list[Row[Any]]](self._load_segments_of)
        self.mappings = DataLoader[int, list[Row[Any]]](self._load_mappings)
        self.segment = DataLoader[int, Row[Any] | None](self._load_segments)
        self.group_scores = DataLoader[int, list[Row[Any]]](self._load_group_scores)
        self._custom_fields: asyncio.Future[list[FieldSpec]] | None = None
        self._contact_data: dict[str, DataLoader[int, Sequence[Mapping[str, Any]]]] = {}

    async def _load_contacts(self, ids: Sequence[int]) -> list[Row[Any] | None]:
        async with self._reads.session() as session:
            found = await self._services.contacts.by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def _load_by_email(self, emails: Sequence[str]) -> list[Row[Any] | None]:
        async with self._reads.session() as session:
            found = await self._services.contacts.by_emails(session, emails)
        return [found.get(email_key(e)) for e in emails]

    async def _load_tags(self, ids: Sequence[int]) -> list[list[str]]:
        async with self._reads.session() as session:
            found = await self._services.contacts.tags_by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    async def _load_segments_of(self, ids: Sequence[int]) -> list[list[Row[Any]]]:
        async with self._reads.session() as session:
            found = await self._services.contacts.segments_by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    async def _load_mappings(self, ids: Sequence[int]) -> list[list[Row[Any]]]:
        async with self._reads.session() as session:
            found = await self._services.contacts.mappings_by_contact(session, ids)
        return [found.get(i, []) for i in ids]

    async def _load_segments(self, ids: Sequence[int]) -> list[Row[Any] | None]:
        async with self._reads.session() as session:
            found = await self._services.contacts.segments_by_ids(session, ids)
        return [found.get(i) for i in ids]

    async def _load_group_scores(self, ids: Sequence[int]) -> list[list[Row[Any]]]:
        async with self._reads.session() as session:
            found = await self._services.contacts.group_scores_by_contact(session, ids)
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
        return self._custom_fields


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

    async def close(self) -> None:
        await self.reads.close()

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
        return self._token

    async def require(self, scope: Scope | None, what: str) -> ApiToken:
        """The caller's token if it has ``scope`` (``None``: any valid token)."""
        token = await self.token()
        if scope is not None and not token.allows(scope):
            raise ForbiddenError(
                f"this API token lacks the scope `{scope.value}`, which `{what}` needs"
            )
        return token
