"""OAuth2 tokens and where they are kept between runs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .._crypto import SecretBox
from .._errors import ConfigurationError, ValidationError

logger = logging.getLogger("leadbridge.auth")


@dataclass(frozen=True, slots=True, repr=False)
class OAuthToken:
    """An OAuth2 token set. ``access_token`` is ``None`` when only a refresh token is known.

    ``expires_at`` is an aware UTC datetime, or ``None`` when the server gave no lifetime (the
    token is then used until the API answers 401).
    """

    access_token: str | None
    refresh_token: str | None = None
    expires_at: datetime | None = None
    token_type: str = "Bearer"
    scope: str | None = None

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
        return self.access_token is None or self.expires_within(leeway, now=now)

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
        return cls(
            access_token=access_token,
            refresh_token=str(refresh_token) if refresh_token else None,
            expires_at=_expiry(payload, now or datetime.now(UTC)),
            token_type=str(payload.get("token_type") or "Bearer"),
            scope=str(scope) if scope else (previous.scope if previous else None),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "token_type": self.token_type,
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthToken:
        """The inverse of :meth:`to_dict`; a malformed mapping raises ``ValidationError``."""
        if not isinstance(data, Mapping):
            raise ValidationError("a stored OAuth token must be a JSON object", field="token")
        expires_at = data.get("expires_at")
        for name in ("access_token", "refresh_token", "scope"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValidationError(f"stored OAuth token: {name} is not a string", field=name)
        return cls(
            access_token=data.get("access_token"),
            refresh_token=data.get("refresh_token"),
            expires_at=None if expires_at is None else _parse_time(expires_at, "expires_at"),
            token_type=str(data.get("token_type") or "Bearer"),
            scope=data.get("scope"),
        )


class TokenStore(Protocol):
    """Where an OAuth2 provider keeps its token between requests and runs.

    ``load`` returns ``None`` when nothing usable is stored (empty, unreadable): the provider
    then fetches or refreshes rather than failing.
    """

    async def load(self) -> OAuthToken | None: ...

    async def save(self, token: OAuthToken) -> None: ...


class MemoryTokenStore:
    """Keeps the token in memory (tests, short scripts, client credentials)."""

    def __init__(self, token: OAuthToken | None = None) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"MemoryTokenStore(token={self.token!r})"

    async def load(self) -> OAuthToken | None:
        return self.token

    async def save(self, token: OAuthToken) -> None:
        self.token = token


class SecretBoxTokenStore:
    """Encrypts the token with a :class:`~leadbridge.SecretBox`; callbacks keep the ciphertext.

    The integration framework wires ``load_raw``/``save_raw`` to the integration's stored
    credentials; nothing readable leaves this class. A stored value that cannot be decrypted
    (the key changed) or parsed loads as ``None`` and is logged, so the provider gets a new
    token instead of crashing.
    """

    def __init__(
        self,
        box: SecretBox,
        load_raw: Callable[[], Awaitable[str | None]],
        save_raw: Callable[[str], Awaitable[None]],
    ) -> None:
        self._box = box
        self._load_raw = load_raw
        self._save_raw = save_raw

    def __repr__(self) -> str:
        return "SecretBoxTokenStore()"

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
