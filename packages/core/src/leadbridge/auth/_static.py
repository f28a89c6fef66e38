"""Providers whose secret never changes during a request: API keys, Basic, Bearer.

Each refuses an empty (or blank) secret when built and again on every request, since it reads
the credentials anew each time: nothing is authenticated against an empty key.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Generator

import httpx
from typing_extensions import override

from .._errors import ValidationError
from ..http import mark_secrets
from ._credentials import (
    APIKeyCredentials,
    BasicAuthCredentials,
    BearerTokenCredentials,
    required,
)


class APIKeyQueryAuth(httpx.Auth):
    """The API key in a query parameter (``?api_key=…``; the name is configurable).

    The parameter's value is masked in every URL LeadBridge logs or raises.
    """

    def __init__(self, credentials: APIKeyCredentials, *, param: str = "api_key") -> None:
        if not param:
            raise ValidationError("param must name the query parameter", field="param")
        required(credentials.api_key, "api_key")
        self._credentials = credentials
        self.param = param

    def __repr__(self) -> str:
        return f"APIKeyQueryAuth(param={self.param!r}, api_key='***')"

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = required(self._credentials.api_key, "api_key")
        request.url = request.url.copy_set_param(self.param, key)
        mark_secrets(request, params=[self.param])
        yield request


class APIKeyHeaderAuth(httpx.Auth):
    """The API key in a header: ``header: <prefix> <key>``, or the raw key without a prefix.

    Livestorm: ``APIKeyHeaderAuth(creds, header="Authorization")`` sends the raw token.
    """

    def __init__(
        self,
        credentials: APIKeyCredentials,
        *,
        header: str = "X-API-Key",
        prefix: str | None = None,
    ) -> None:
        if not header:
            raise ValidationError("header must name the HTTP header", field="header")
        required(credentials.api_key, "api_key")
        self._credentials = credentials
        self.header = header
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"APIKeyHeaderAuth(header={self.header!r}, prefix={self.prefix!r}, api_key='***')"

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = required(self._credentials.api_key, "api_key")
        request.headers[self.header] = f"{self.prefix} {key}" if self.prefix else key
        mark_secrets(request, headers=[self.header])
        yield request


class HTTPBasicAuth(httpx.Auth):
    """HTTP Basic (RFC 7617), reading the username and password on every request."""

    def __init__(self, credentials: BasicAuthCredentials) -> None:
        required(credentials.username, "username")
        required(credentials.password, "password")
        self._credentials = credentials

    def __repr__(self) -> str:
        return "HTTPBasicAuth(password='***')"

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        username = required(self._credentials.username, "username")
        password = required(self._credentials.password, "password")
        pair = b64encode(f"{username}:{password}".encode()).decode()
        request.headers["Authorization"] = f"Basic {pair}"
        yield request


class BearerTokenAuth(httpx.Auth):
    """A long-lived token sent as ``Authorization: Bearer <token>`` (no refresh)."""

    def __init__(self, credentials: BearerTokenCredentials) -> None:
        required(credentials.token, "token")
        self._credentials = credentials

    def __repr__(self) -> str:
        return "BearerTokenAuth(token='***')"

    @override
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = required(self._credentials.token, "token")
        request.headers["Authorization"] = f"Bearer {token}"
        yield request
