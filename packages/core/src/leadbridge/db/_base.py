from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Primary keys: BIGINT on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

#: JSON documents: JSONB on PostgreSQL, JSON (text) on SQLite.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _to_utc(value, naive=dialect.name == "sqlite")

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any]:
        # Bulk writes bind this type per row: one plain function chosen per dialect (the
        # common value, already in UTC, costs one identity check) instead of the generic
        # TypeDecorator wrapper calling ``process_bind_param`` with the dialect each time.
        inner = self.impl_instance.bind_processor(dialect)
        naive = dialect.name == "sqlite"
        if inner is None:
            return partial(_to_utc, naive=naive)

        def process(value: datetime | None) -> Any:
            return inner(_to_utc(value, naive=naive))

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def _to_utc(value: datetime | None, *, naive: bool) -> datetime | None:
    """``value`` in UTC, without its zone when ``naive`` (SQLite stores naive text)."""
    if value is None:
        return None
    zone = value.tzinfo
    if zone is None:
        raise ValueError("naive datetime given; LeadBridge stores aware UTC datetimes")
    if zone is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None) if naive else value


class Base(DeclarativeBase):
    """Declarative base of core's tables. Plugins declare their own base and metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)
