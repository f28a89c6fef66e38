"""Small dialect helpers for set-based writes on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Select, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession, table: Table | Any) -> Any:
    """An INSERT that knows ``ON CONFLICT`` on this session's backend."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def id_set(session: AsyncSession, ids: Sequence[int]) -> Select[Any]:
    """A one-column SELECT of ``ids`` bound as one parameter, whatever the count.

    PostgreSQL: ``unnest(:ids::bigint[])``; SQLite: ``json_each(:ids)``. Expanding ``IN``
    lists would bind a parameter per id and hit the drivers' limits (32,767) on big batches.
    """
    if dialect_name(session) == "postgresql":
        array = bindparam(None, list(ids), type_=postgresql.ARRAY(BigInteger))
        return select(func.unnest(array))
    values = func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")
    return select(values.c.value)
