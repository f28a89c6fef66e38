"""New contacts written as the driver takes them: one executemany of plain tuples.

SQLAlchemy's executemany builds a parameter dictionary per row and runs every column's bind
processor on every row. Here the statement is compiled once per dialect, the batch's one
timestamp is processed once, and per row only the custom-field document is serialized (by
the column type's own processor, so stored bytes are what the ORM would store). On PostgreSQL
a batch of ``COPY_THRESHOLD`` rows or more goes in by ``COPY`` (asyncpg's
``copy_records_to_table``) on the session's own connection, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import Dialect, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ._fields import CORE_FIELDS
from ._models import ContactRow

_CONTACTS = cast(Table, ContactRow.__table__)
#: Core fields after ``email``, in the table's column order.
_NAMES = tuple(name for name in CORE_FIELDS if name != "email")
#: The columns written, in the table's order (the order the compiled statement binds them).
_COLUMNS = ("id", "email", "email_key", *_NAMES, "points", "fields", "created_at", "updated_at")

#: Rows from which PostgreSQL gets a ``COPY`` rather than an executemany.
COPY_THRESHOLD = 100

Processor = Callable[[Any], Any]


class _Compiled:
    def __init__(self, dialect: Dialect) -> None:
        statement = insert(_CONTACTS).values({name: bindparam(name) for name in _COLUMNS})
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ())
        if order != _COLUMNS:  # pragma: no cover - a dialect that is not positional
            raise RuntimeError(f"unexpected parameter order {order} for {dialect.name}")
        self.sql = str(compiled)
        self.fields = _processor(dialect, "fields")
        self.stamp = _processor(dialect, "created_at")


def _processor(dialect: Dialect, column: str) -> Processor:
    column_type = _CONTACTS.c[column].type
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


_compiled: dict[str, _Compiled] = {}


async def insert_contacts(
    session: AsyncSession,
    ids: Sequence[int],
    values: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    now: datetime,
) -> None:
    """Insert new contacts: ``ids[i]`` with normalized ``values[i]`` and email key ``keys[i]``."""
    connection = await session.connection()
    dialect = connection.dialect
    plan = _compiled.get(dialect.name)
    if plan is None:
        plan = _compiled[dialect.name] = _Compiled(dialect)
    stamp = plan.stamp(now)
    serialize = plan.fields
    rows = [
        (
            cid,
            row["email"],
            key,
            *map(row.get, _NAMES),
            0,
            serialize({k: v for k, v in row.items() if v is not None and k not in CORE_FIELDS}),
            stamp,
            stamp,
        )
        for cid, row, key in zip(ids, values, keys, strict=True)
    ]
    if dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        await _copy(connection, rows)
    else:
        await connection.exec_driver_sql(plan.sql, rows)


async def _copy(connection: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("the session's connection is closed")
    try:
        await driver.copy_records_to_table(_CONTACTS.name, records=rows, columns=_COLUMNS)
    except asyncpg.PostgresError as exc:
        # What an INSERT would raise through SQLAlchemy, so callers tell a taken email
        # (retry) from anything else the same way on every path.
        error = (
            IntegrityError
            if isinstance(exc, asyncpg.IntegrityConstraintViolationError)
            else DBAPIError
        )
        raise error(f"COPY {_CONTACTS.name}", None, exc) from exc
