"""Statements that differ between SQLite and PostgreSQL, chosen from a session's bind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Select, String, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .._errors import ConfigurationError


def dialect_name(session: AsyncSession) -> str:
    """The backend ``session`` talks to: ``"sqlite"`` or ``"postgresql"``."""
    return session.get_bind().dialect.name


def dialect_insert(session: AsyncSession, table: Table | Any) -> Any:
    """An ``INSERT`` for ``table`` that knows ``ON CONFLICT`` on this session's backend.

    Returns the dialect's own :func:`~sqlalchemy.dialects.postgresql.insert` or
    :func:`~sqlalchemy.dialects.sqlite.insert` construct, so ``on_conflict_do_update`` /
    ``on_conflict_do_nothing`` and ``.excluded`` work on either.
    """
    name = dialect_name(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ConfigurationError(f"LeadBridge supports SQLite and PostgreSQL, not {name}")


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


def key_set(session: AsyncSession, keys: Sequence[str]) -> Select[Any]:
    """A one-column SELECT of the strings ``keys`` bound as one parameter, whatever the count.

    PostgreSQL: ``unnest(:keys::VARCHAR[])``; SQLite: ``json_each(:keys)``. As :func:`id_set`
    for ids: an expanding ``IN`` list binds (and renders, on every execution) a parameter per
    key, and each list length is a statement PostgreSQL parses anew. A unique or primary key
    index on the column is still used for the lookup.
    """
    if dialect_name(session) == "postgresql":
        array = bindparam(None, list(keys), type_=postgresql.ARRAY(String))
        return select(func.unnest(array))
    values = func.json_each(bindparam(None, json.dumps(list(keys)))).table_valued("value")
    return select(values.c.value)
