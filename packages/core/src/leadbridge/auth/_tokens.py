"""OAuth2 tokens and where they are kept between runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from .._crypto import SecretBox
from .._errors import ConfigurationError, ValidationError

logger = logging.getLogger("leadbridge.auth")


@dataclass(frozen=True, slots=True, repr=False)
class OAuthToken:
    """An OAuth2 token set. ``access_token`` is ``None`` when only a refresh token is known.

    ``expires_at`` is an aware UTC datetime, or ``None`` when the server gave no lifetime (the
    token is then used until the API answers 401). ``issued_at`` (when it was received) gives
    the lifetime, which caps the refresh leeway (see :meth:`needs_refresh`).
    """

    access_token: str | None
    refresh_token: str | None = None
    expires_at: datetime | None = None
    token_type: str = "Bearer"
    scope: str | None = None
    issued_at: datetime | None = None

    def __repr__(self) -> str:
        def mask(value: str | None) -> str:
            return "None" if value is None else "'***'"

        expires = None if self.expires_at is None else self.expires_at.isoformat()
        return (
            f"OAuthToken(access_token={mask(self.access_token)}, "
            f"refresh_token={mask(self.refresh_token)}, expires_at={expires!r}, "
            f"token_type={self.token_type!r}, scope={self.scope!r})"
        )

    __str__ = __repr__

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """Whether the token expires in ``seconds`` or less (never, without ``expires_at``)."""
        if self.expires_at is None:
            return False
        return self.expires_at - (now or datetime.now(UTC)) <= timedelta(seconds=seconds)

    def needs_refresh(self, leeway: float = 0.0, *, now: datetime | None = None) -> bool:
        """Whether to renew now: no access token, or expiring within the leeway.

        The leeway is capped at half the token's lifetime when that is known: a token that
        lives 20 s is renewed after 10 s even with a 30 s leeway, not at once (which would make
        every request fetch a token).
        """
        if not self.access_token:
            return True
        if self.expires_at is not None and self.issued_at is not None:
            lifetime = (self.expires_at - self.issued_at).total_seconds()
            leeway = min(leeway, max(lifetime, 0.0) / 2)
        return self.expires_within(leeway, now=now)

    @classmethod
    def from_response(
        cls,
        payload: Mapping[str, Any],
        *,
        previous: OAuthToken | None = None,
        now: datetime | None = None,
    ) -> OAuthToken:
        """The token of a token endpoint's JSON answer (RFC 6749 section 5.1).

        A refresh token in the answer replaces ``previous``'s (rotation); without one the
        previous refresh token is kept. The lifetime comes from ``expires_at`` (Unix time or
        ISO 8601) or ``expires_in`` (seconds).
        """
        access_token = payload.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ValidationError("the token response has no access_token", field="access_token")
        refresh_token = payload.get("refresh_token") or (previous and previous.refresh_token)
        scope = payload.get("scope")
        if isinstance(scope, list | tuple):
            scope = " ".join(str(s) for s in scope)
        now = now or datetime.now(UTC)
        return cls(
            access_token=access_token,
            refresh_token=str(refresh_token) if refresh_token else None,
            expires_at=_expiry(payload, now),
            token_type=str(payload.get("token_type") or "Bearer"),
            scope=str(scope) if scope else (previous.scope if previous else None),
            issued_at=now,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "token_type": self.token_type,
            "scope": self.scope,
            "issued_at": None if self.issued_at is None else self.issued_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthToken:
        """The inverse of :meth:`to_dict`; a malformed mapping raises ``ValidationError``."""
        if not isinstance(data, Mapping):
            raise ValidationError("a stored OAuth token must be a JSON object", field="token")
        expires_at, issued_at = data.get("expires_at"), data.get("issued_at")
        for name in ("access_token", "refresh_token", "scope"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValidationError(f"stored OAuth token: {name} is not a string", field=name)
        return cls(
            # An empty token is no token: never sent as "Bearer ", never refreshed with.
            access_token=data.get("access_token") or None,
            refresh_token=data.get("refresh_token") or None,
            expires_at=None if expires_at is None else _parse_time(expires_at, "expires_at"),
            token_type=str(data.get("token_type") or "Bearer"),
            scope=data.get("scope"),
            issued_at=None if issued_at is None else _parse_time(issued_at, "issued_at"),
        )


class TokenStore(Protocol):
    """Where an OAuth2 provider keeps its token between requests and runs.

    ``load`` returns ``None`` when nothing usable is stored (empty, unreadable): the provider
    then fetches or refreshes rather than failing.
    """

    async def load(self) -> OAuthToken | None: ...

    async def save(self, token: OAuthToken) -> None: ...


@runtime_checkable
class LockingTokenStore(TokenStore, Protocol):
    """A :class:`TokenStore` that several providers share, with a lock for refreshes.

    A provider renews its token inside ``async with store.locked() as held:``: it loads the
    stored token through ``held``, refreshes only if that one is still stale, and saves
    through ``held``; whoever waited on the lock then loads the new token instead of
    presenting the same (rotated, now spent) refresh token a second time. A store whose
    storage spans processes should lock across processes.
    """

    def locked(self) -> AbstractAsyncContextManager[TokenStore]: ...


#: What :class:`SecretBoxTokenStore`'s ``lock_raw`` callback yields: ``load_raw`` and
#: ``save_raw`` that read and write under the lock it holds.
RawTokenAccess = tuple[Callable[[], Awaitable[str | None]], Callable[[str], Awaitable[None]]]


class _LoopLock:
    """An ``asyncio.Lock`` per event loop: a store may outlive its loop (one per CLI command)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


class MemoryTokenStore:
    """Keeps the token in memory (tests, short scripts, client credentials).

    One process only: providers sharing this store in one process refresh one at a time, but
    another process has its own memory, its own token and its own refreshes — with a server
    that rotates refresh tokens, share a database-backed store instead
    (:meth:`~leadbridge.integrations.IntegrationSettingsService.token_store`).
    """

    def __init__(self, token: OAuthToken | None = None) -> None:
        self.token = token
        self._lock = _LoopLock()

    def __repr__(self) -> str:
        return f"MemoryTokenStore(token={self.token!r})"

    async def load(self) -> OAuthToken | None:
        return self.token

    async def save(self, token: OAuthToken) -> None:
        self.token = token

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[TokenStore]:
        async with self._lock.get():
            yield self


class SecretBoxTokenStore:
    """Encrypts the token with a :class:`~leadbridge.SecretBox`; callbacks keep the ciphertext.

    The integration framework wires ``load_raw``/``save_raw`` to the integration's stored
    credentials; nothing readable leaves this class. A stored value that cannot be decrypted
    (the key changed) or parsed loads as ``None`` and is logged, so the provider gets a new
    token instead of crashing.

    ``lock_raw`` makes refreshes safe across processes: an async context manager factory that
    takes a lock on the stored value (a row lock, a database write lock) and yields
    ``(load_raw, save_raw)`` working under it (see :data:`RawTokenAccess`). Without it,
    :meth:`locked` only serialises the providers of this one store object.
    """

    def __init__(
        self,
        box: SecretBox,
        load_raw: Callable[[], Awaitable[str | None]],
        save_raw: Callable[[str], Awaitable[None]],
        *,
        lock_raw: Callable[[], AbstractAsyncContextManager[RawTokenAccess]] | None = None,
    ) -> None:
        self._box = box
        self._load_raw = load_raw
        self._save_raw = save_raw
        self._lock_raw = lock_raw
        self._lock = _LoopLock()

    def __repr__(self) -> str:
        return "SecretBoxTokenStore()"

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[TokenStore]:
        async with self._lock.get():
            if self._lock_raw is None:
                yield self
                return
            async with self._lock_raw() as (load_raw, save_raw):
                yield SecretBoxTokenStore(self._box, load_raw, save_raw)

    async def load(self) -> OAuthToken | None:
        raw = await self._load_raw()
        if not raw:
            return None
        try:
            return OAuthToken.from_dict(self._box.decrypt_json(raw))
        except (ConfigurationError, ValidationError, ValueError, TypeError) as exc:
            logger.warning(
                "the stored OAuth token cannot be read (%s); a new one will be requested",
                type(exc).__name__,
            )
            return None

    async def save(self, token: OAuthToken) -> None:
        await self._save_raw(self._box.encrypt_json(token.to_dict()))


def _expiry(payload: Mapping[str, Any], now: datetime) -> datetime | None:
    if payload.get("expires_at") is not None:
        return _parse_time(payload["expires_at"], "expires_at")
    if payload.get("expires_in") is not None:
        try:
            seconds = float(payload["expires_in"])
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                "expires_in is not a number", field="expires_in", value=payload["expires_in"]
            ) from exc
        return now + timedelta(seconds=seconds)
    return None


def _parse_time(value: Any, name: str) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        text = str(value).strip()
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except ValueError:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValidationError(f"{name} is not a time", field=name, value=value) from exc
