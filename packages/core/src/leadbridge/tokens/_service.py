"""API tokens for the GraphQL gateway: random secrets stored as SHA-256, scoped, revocable."""

from __future__ import annotations

import builtins
import enum
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import NotFoundError, ValidationError
from ..db import READ_ONLY, utcnow
from ._models import ApiTokenRow

#: Every token starts with this, so that secret scanners and people recognise one.
TOKEN_PREFIX = "lbt_"

# Writing last_used_at on every request would turn each read into a write; once in a while
# is enough to tell a live token from a forgotten one.
_LAST_USED_RESOLUTION = timedelta(minutes=10)


class Scope(enum.StrEnum):
    """What a token may do. ``*:write`` does not imply ``*:read``: grant both when needed."""

    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    SEGMENTS_READ = "segments:read"
    SEGMENTS_WRITE = "segments:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_WRITE = "integrations:write"
    SYNC_RUN = "sync:run"


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """Scopes from names (comma-separated lists allowed), deduplicated, in declaration order."""
    wanted: set[Scope] = set()
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            try:
                wanted.add(Scope(name))
            except ValueError as exc:
                raise ValidationError(
                    f"unknown scope {name!r}; use one of {', '.join(s.value for s in Scope)}",
                    field="scopes",
                    value=name,
                ) from exc
    if not wanted:
        raise ValidationError("a token needs at least one scope", field="scopes")
    return tuple(s for s in Scope if s in wanted)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    """A stored token, without its secret."""

    id: int
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, scope: Scope | str) -> bool:
        return scope in self.scopes

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": [s.value for s in self.scopes],
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "active": self.is_active(),
        }


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: ``secret`` is shown this once and never stored."""

    token: ApiToken
    secret: str = ""

    def __repr__(self) -> str:
        return f"IssuedToken(token={self.token!r}, secret='**********')"


_COLUMNS = tuple(ApiTokenRow.__table__.columns)


def _token(row: Any) -> ApiToken:
    """From an :class:`ApiTokenRow` or a row of its columns."""
    known = {s.value for s in Scope}
    return ApiToken(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        # A scope a newer version wrote and this one does not know grants nothing here.
        scopes=tuple(Scope(s) for s in row.scopes if s in known),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class TokenService:
    """Issue, list, revoke and check API tokens."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        # Tokens used since last_used_at was last written, by id: written later, together.
        self._unsaved_uses: set[int] = set()

    async def create(
        self,
        name: str,
        scopes: Iterable[Scope | str],
        *,
        expires_in: timedelta | None = None,
    ) -> IssuedToken:
        name = name.strip()
        if not name or len(name) > 255:
            raise ValidationError("a token name is 1 to 255 characters", field="name", value=name)
        parsed = parse_scopes(str(s) for s in scopes)
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValidationError("expiry must be in the future", field="expires_in")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        row = ApiTokenRow(
            name=name,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(secret),
            scopes=[s.value for s in parsed],
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
        )
        async with self._session_factory.begin() as session:
            session.add(row)
        return IssuedToken(_token(row), secret)

    async def list(self) -> builtins.list[ApiToken]:
        async with self._session_factory() as session:
            rows = (await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))).all()
        return [_token(r) for r in rows]

    async def get(self, token_id: int) -> ApiToken:
        async with self._session_factory() as session:
            row = await session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFoundError(f"token {token_id} does not exist")
        return _token(row)

    async def revoke(self, token_id: int) -> ApiToken:
        """Revoke a token (idempotent: revoking twice keeps the first revocation time)."""
        async with self._session_factory.begin() as session:
            row = await session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(f"token {token_id} does not exist")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        return _token(row)

    async def authenticate(
        self, secret: str, *, session: AsyncSession | None = None
    ) -> ApiToken | None:
        """The active token whose secret this is, or ``None`` (unknown, revoked or expired).

        ``session``: read through the caller's (read-only) session rather than a new one. The
        use is then only noted: the caller writes it with :meth:`save_last_used` once it has
        let its session go, so that checking a token never holds a second connection (nor
        waits for SQLite's write lock). Without ``session`` the use is written at once.
        """
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
            return None
        # Looked up by hash: the query's timing depends on the digest, never on the secret.
        # Plain columns, not an ORM entity: this runs on every request.
        stmt = select(*_COLUMNS).where(ApiTokenRow.token_hash == hash_token(secret))
        if session is not None:
            row = (await session.execute(stmt)).first()
        else:
            async with self._session_factory() as own:
                # Every request reads this: on SQLite, without taking the write lock.
                await own.connection(execution_options={READ_ONLY: True})
                row = (await own.execute(stmt)).first()
        if row is None:
            return None
        token = _token(row)
        now = utcnow()
        if not token.is_active(now):
            return None
        if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
            self._unsaved_uses.add(row.id)
            if session is None:
                await self.save_last_used()
        return token

    @property
    def has_unsaved_uses(self) -> bool:
        """Whether :meth:`authenticate` noted uses that :meth:`save_last_used` has not written."""
        return bool(self._unsaved_uses)

    async def save_last_used(self) -> int:
        """Write ``last_used_at`` of the tokens used since the last call, in one statement.

        Uses are coalesced: many requests on one token make one write. Returns how many
        tokens were noted. If the write fails (SQLite's write lock held too long), the uses
        stay noted for the next call and the error is raised.
        """
        used, self._unsaved_uses = self._unsaved_uses, set()
        if not used:
            return 0
        now = utcnow()
        try:
            async with self._session_factory.begin() as session:
                await session.execute(
                    update(ApiTokenRow)
                    .where(
                        ApiTokenRow.id.in_(sorted(used)),
                        # Another process (or an earlier call) may have written it meanwhile.
                        or_(
                            ApiTokenRow.last_used_at.is_(None),
                            ApiTokenRow.last_used_at < now - _LAST_USED_RESOLUTION,
                        ),
                    )
                    .values(last_used_at=now)
                )
        except BaseException:
            self._unsaved_uses |= used
            raise
        return len(used)
