"""Throwaway databases for tests: a fresh SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

#: Server used to create PostgreSQL test databases (trust auth on the test machines).
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class DatabaseUnavailableError(RuntimeError):
    """The test database server cannot be reached."""


def backend_from_env() -> str:
    """``sqlite`` or ``postgres``, from ``LEADBRIDGE_TEST_DB``."""
    backend = os.environ.get("LEADBRIDGE_TEST_DB", "sqlite")
    if backend not in ("sqlite", "postgres"):
        raise ValueError(f"LEADBRIDGE_TEST_DB={backend!r}: use sqlite or postgres")
    return backend


async def create_database(backend: str, directory: Path) -> str:
    """Create an empty database and return its async SQLAlchemy URL."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{directory / f'lb_{uuid.uuid4().hex[:8]}.db'}"
    import asyncpg

    admin = os.environ.get("LEADBRIDGE_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    name = f"lb_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseUnavailableError(
            f"PostgreSQL at {_safe(admin)} is unreachable: {exc}"
        ) from exc
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(admin).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - tiny
        return
    import asyncpg

    admin = os.environ.get("LEADBRIDGE_TEST_PG_URL", DEFAULT_PG_ADMIN_URL)
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table but Alembic's, so each test starts from a migrated, empty store."""

    def tables(conn: Connection) -> list[str]:
        return [t for t in inspect(conn).get_table_names() if t != "alembic_version"]

    async with engine.begin() as conn:
        names = await conn.run_sync(tables)
        if not names:
            return
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{n}"' for n in names)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            for name in names:
                await conn.execute(text(f'DELETE FROM "{name}"'))
            has_seq = await conn.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name='sqlite_sequence'")
            )
            if has_seq:
                await conn.execute(text("DELETE FROM sqlite_sequence"))


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
