"""Another process holding the database's write lock, and engines that give up waiting fast."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from leadbridge import db


def impatient(engine: AsyncEngine) -> None:
    """Give up waiting for a lock after 200 ms instead of the production 30 s."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=200")
        else:
            cursor.execute("SET lock_timeout = '200ms'")
        cursor.close()

    event.listen(engine.sync_engine, "connect", on_connect)


@asynccontextmanager
async def write_lock_held(database_url: str, table: str) -> AsyncIterator[None]:
    """Another connection holds the write lock (SQLite) / a lock on ``table`` (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        with _sqlite_lock(make_url(database_url).database or ""):
            yield
        return
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            yield
            await connection.rollback()
    finally:
        await engine.dispose()


@contextmanager
def _sqlite_lock(path: str) -> Iterator[None]:
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()
