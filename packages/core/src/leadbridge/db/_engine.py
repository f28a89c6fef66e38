from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .. import _regexp

#: Execution option of transactions that only read (``engine.execution_options(read_only=True)``
#: or ``session.connection(execution_options={"read_only": True})``): on SQLite they begin
#: without the write lock; a write in one may then fail with "database is locked".
READ_ONLY = "read_only"


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """The async engine for ``database_url`` (aiosqlite or asyncpg), tuned per backend."""
    kwargs: dict[str, Any] = {"echo": echo}
    if database_url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
        # plan made while a table was small (a seq scan), and keep it while a bulk load grows
        # the table in the same transaction: lookups turn quadratic. Custom plans see the size.
        kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    engine = create_async_engine(database_url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; we emit BEGIN
    # ourselves (see _sqlite_on_begin), the documented SQLAlchemy recipe.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # What PostgreSQL has built in: `~*` (case-insensitive regular expressions, here in RE2:
    # linear time, no catastrophic backtracking) and a lower() that folds every letter, not
    # only ASCII (segment filters compare text through it).
    dbapi_connection.create_function("regexp", 2, _sqlite_regexp, deterministic=True)
    dbapi_connection.create_function("unicode_lower", 1, _sqlite_lower, deterministic=True)


def _sqlite_regexp(pattern: Any, value: Any) -> bool | None:
    """``value REGEXP pattern``: case-insensitive search; NULL when either side is NULL."""
    if pattern is None or value is None:
        return None
    return _regexp.search(str(pattern), str(value))


def _sqlite_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: two writers queue instead of deadlocking on upgrade.
    # A read-only transaction begins DEFERRED: under WAL it neither waits for writers nor blocks
    # them (nor other readers).
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; ``read_only=True`` for sessions that never write."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False)
