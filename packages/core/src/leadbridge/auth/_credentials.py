"""What a provider reads from the integration: small protocols, plus plain holders.

An integration implements a protocol on whatever holds its decrypted settings (the provider
reads the attribute on every request, so rotated credentials apply at once), or passes one of
the frozen holders below. Neither shows its secrets in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .._errors import ConfigurationError


class APIKeyCredentials(Protocol):
    @property
    def api_key(self) -> str: ...


class BasicAuthCredentials(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def password(self) -> str: ...


class BearerTokenCredentials(Protocol):
    @property
    def token(self) -> str: ...


class ClientCredentials(Protocol):
    """An OAuth2 client; ``client_secret`` is ``None`` for a public client (PKCE only)."""

    @property
    def client_id(self) -> str: ...

    @property
    def client_secret(self) -> str | None: ...


@dataclass(frozen=True, slots=True, repr=False)
class APIKey:
    api_key: str

    def __repr__(self) -> str:
        return "APIKey(api_key='***')"


@dataclass(frozen=True, slots=True, repr=False)
class UsernamePassword:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"UsernamePassword(username={self.username!r}, password='***')"


@dataclass(frozen=True, slots=True, repr=False)
class StaticToken:
    token: str

    def __repr__(self) -> str:
        return "StaticToken(token='***')"


@dataclass(frozen=True, slots=True, repr=False)
class ClientIdSecret:
    client_id: str
    client_secret: str | None = None

    def __repr__(self) -> str:
        secret = None if self.client_secret is None else "***"
        return f"ClientIdSecret(client_id={self.client_id!r}, client_secret={secret!r})"


def required(value: str | None, name: str, *, hint: str = "configure the integration") -> str:
    """``value``, or a :class:`ConfigurationError` naming the missing credential.

    Blank counts as empty: nothing is ever authenticated against an empty key.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"the credential {name!r} is empty: {hint}")
    return value
