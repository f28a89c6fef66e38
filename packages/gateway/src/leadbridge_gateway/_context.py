"""What every resolver gets: the services, the request's caller and its DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from leadbridge import ApiToken, ContactService, CustomFieldService, Scope, TokenService
from leadbridge.contacts import FieldSpec, email_key

from ._errors import ForbiddenError, UnauthenticatedError
from ._repository import ContactRepository


@dataclass(frozen=True)
class GatewayServices:
    """The core services the schema uses, wired by :class:`GatewayContainer`."""

    session_factory: async_sessionmaker[AsyncSession]
    contact_service: ContactService
    custom_field_service: CustomFieldService
    token_service: TokenService
    contacts: ContactRepository
    #: Reads custom field definitions through read-only sessions.
    field_reader: CustomFieldService


class Loaders:
    """Per-request batching and caching: every list field costs one statement per level."""

    def __init__(self, services: GatewayServices) -> None:
        self._services = services
        self.contact = DataLoader[int, Row[Any] | None](self._load_contacts)
        self.contact_by_email = DataLoader[str, Row[Any] | None](self._load_by_email)
        self.tags = DataLoader[int, list[str]](self._load_tags)
        self._custom_fields: asyncio.Future[list[FieldSpec]] | None = None

    async def _load_contacts(self, ids: Sequence[int]) -> list[Row[Any] | None]:
        found = await self._services.contacts.by_ids(ids)
        return [found.get(i) for i in ids]

    async def _load_by_email(self, emails: Sequence[str]) -> list[Row[Any] | None]:
        found = await self._services.contacts.by_emails(emails)
        return [found.get(email_key(e)) for e in emails]

    async def _load_tags(self, ids: Sequence[int]) -> list[list[str]]:
        found = await self._services.contacts.tags_by_contact(ids)
        return [found.get(i, []) for i in ids]

    def custom_fields(self) -> asyncio.Future[list[FieldSpec]]:
        """Custom field definitions, read once per request."""
        if self._custom_fields is None:
            self._custom_fields = asyncio.ensure_future(self._services.field_reader.list())
        return self._custom_fields


class GatewayContext:
    """The context of one HTTP request or one websocket connection."""

    def __init__(
        self,
        services: GatewayServices,
        *,
        authorization: str | None = None,
        request: Any = None,
        response: Any = None,
    ) -> None:
        self.services = services
        self.request = request
        self.response = response
        self.loaders = Loaders(services)
        #: graphql-transport-ws ``connection_init`` payload, set by Strawberry.
        self.connection_params: Mapping[str, Any] | None = None
        self._authorization = authorization
        self._token: asyncio.Future[ApiToken] | None = None

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
        token = await self.services.token_service.authenticate(secret.strip())
        if token is None:
            raise UnauthenticatedError("the API token is invalid, expired or revoked")
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
