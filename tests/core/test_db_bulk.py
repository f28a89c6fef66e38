"""``BulkInsert`` / ``BulkUpdate``: what lands in the table, on both paths of both databases.

Batches of ``COPY_THRESHOLD`` rows and more take ``COPY`` on PostgreSQL (straight or through a
staging table); smaller ones, and SQLite, an executemany. Each behaviour is checked on a
small and a large batch, so both paths must store the same thing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from leadbridge.db import (
    COPY_THRESHOLD,
    BigIntPK,
    BulkInsert,
    BulkUpdate,
    JSONDoc,
    UTCDateTime,
    create_engine,
)

METADATA = MetaData()
PARENTS = Table("bulk_parents", METADATA, Column("id", Integer, primary_key=True))
ITEMS = Table(
    "bulk_items",
    METADATA,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    # A reserved word and a mixed-case name: the staging SQL must quote them.
    Column("order", Integer, nullable=False, default=0),
    Column("Label", Text),
    Column("doc", JSONDoc),
    Column("seen_at", UTCDateTime),
    Column("parent_id", Integer, ForeignKey("bulk_parents.id")),
)
COLUMNS = ("key", "order", "Label", "doc", "seen_at")
SIZES = [3, COPY_THRESHOLD + 17]
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _newer_only(insert: Any) -> Any:
    """Upsert that keeps the stored row when it is newer (a ``WHERE`` on ``excluded``)."""
    return insert.on_conflict_do_update(
        index_elements=["key"],
        set_={c: insert.excluded[c] for c in COLUMNS if c != "key"},
        where=or_(ITEMS.c.seen_at.is_(None), ITEMS.c.seen_at <= insert.excluded.seen_at),
    )


PLAIN = BulkInsert(ITEMS, COLUMNS)
UPSERT = BulkInsert(ITEMS, COLUMNS, on_conflict=_newer_only)
UPDATE = BulkUpdate(ITEMS, "key", ("order", "doc"))


@pytest_asyncio.fixture
async def engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
        await connection.execute(PARENTS.insert(), [{"id": 1}])
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _rows(count: int, *, order: int = 0, at: datetime = T0) -> list[tuple[Any, ...]]:
    return [
        (f"k{i:05d}", order + i, f'it\'s "{i}" ✓' if i % 2 else None, {"n": i, "tags": ["a"]}, at)
        for i in range(count)
    ]


async def _stored(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        found = await session.execute(select(*(ITEMS.c[c] for c in COLUMNS)).order_by(ITEMS.c.key))
        return [tuple(row) for row in found]


@pytest.mark.parametrize("size", SIZES)
async def test_insert_stores_every_value_as_given(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    rows = _rows(size)
    # A zone other than UTC is stored as the same instant.
    rows[0] = (*rows[0][:4], T0.astimezone(timezone(timedelta(hours=5))))
    async with sessions.begin() as session:
        await PLAIN.execute(session, rows)
    stored = await _stored(sessions)
    assert stored == [(*row[:4], T0) for row in rows]
    assert all(row[4].tzinfo is not None for row in stored)


@pytest.mark.parametrize("size", SIZES)
async def test_a_taken_key_raises_integrity_error_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    async with sessions.begin() as session:
        await PLAIN.execute(session, _rows(1))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await PLAIN.execute(session, _rows(size, order=100))
    assert await _stored(sessions) == [(*_rows(1)[0][:4], T0)]


@pytest.mark.parametrize("size", SIZES)
async def test_upsert_inserts_new_rows_and_updates_stored_ones_unless_newer(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    async with sessions.begin() as session:
        await PLAIN.execute(session, _rows(2))
        # k00001 is stored with a newer time than the upsert brings: it is kept.
        await UPDATE.execute(session, [])
    later = T0 + timedelta(days=1)
    async with sessions.begin() as session:
        await session.execute(ITEMS.update().where(ITEMS.c.key == "k00001").values(seen_at=later))
    async with sessions.begin() as session:
        await UPSERT.execute(session, _rows(size, order=1000, at=T0 + timedelta(hours=1)))
    stored = {row[0]: row for row in await _stored(sessions)}
    assert len(stored) == size
    assert stored["k00000"][1] == 1000  # updated
    assert stored["k00001"][1] == 1 and stored["k00001"][4] == later  # kept: stored is newer
    assert stored[f"k{size - 1:05d}"][1] == 1000 + size - 1  # inserted


@pytest.mark.parametrize("size", SIZES)
async def test_two_upserts_in_one_transaction_apply_each_batch_once(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    async with sessions.begin() as session:
        await UPSERT.execute(session, _rows(size, order=0))
        await UPSERT.execute(session, _rows(size, order=500, at=T0 + timedelta(hours=1))[:2])
    stored = await _stored(sessions)
    assert len(stored) == size
    assert [row[1] for row in stored[:3]] == [500, 501, 2][: min(3, size)]


async def test_an_upsert_after_a_rolled_back_one_still_writes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    size = COPY_THRESHOLD + 1
    with pytest.raises(RuntimeError, match="abandoned"):
        async with sessions.begin() as session:
            await UPSERT.execute(session, _rows(size))
            raise RuntimeError("abandoned")
    assert await _stored(sessions) == []
    async with sessions.begin() as session:
        await UPSERT.execute(session, _rows(size))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ITEMS)) == size


@pytest.mark.parametrize("size", SIZES)
async def test_update_changes_only_the_given_columns_of_the_keyed_rows(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    async with sessions.begin() as session:
        await PLAIN.execute(session, _rows(size + 1))
    changes = [(f"k{i:05d}", 7000 + i, None) for i in range(size)]
    async with sessions.begin() as session:
        await UPDATE.execute(session, [*changes, ("missing", 1, {})])
    stored = await _stored(sessions)
    assert [row[1] for row in stored[:size]] == [7000 + i for i in range(size)]
    assert [row[3] for row in stored[:size]] == [None] * size
    assert stored[size][1] == size  # the last row is not among the changes
    assert [row[2] for row in stored] == [row[2] for row in _rows(size + 1)]  # untouched


@pytest.mark.parametrize("size", SIZES)
async def test_upsert_writes_rows_read_as_new_beside_changed_ones(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    async with sessions.begin() as session:
        await PLAIN.execute(session, _rows(1))
    later = T0 + timedelta(hours=1)
    stored, new = _rows(1, order=50, at=later), _rows(size + 1, order=900, at=later)[1:]
    async with sessions.begin() as session:
        await UPSERT.execute(session, stored, new=new)
    found = await _stored(sessions)
    assert len(found) == size + 1
    assert found[0][1] == 50
    assert [row[1] for row in found[1:]] == [900 + i for i in range(1, size + 1)]


async def test_a_row_read_as_new_but_stored_meanwhile_is_upserted_or_refused(
    sessions: async_sessionmaker[AsyncSession], db_backend: str
) -> None:
    """A concurrent writer stored one of the "new" rows: a small batch (and SQLite) upserts
    it; PostgreSQL's straight copy of a large batch refuses the whole write, which is rolled
    back (the caller retries its unit of work)."""
    async with sessions.begin() as session:
        await PLAIN.execute(session, _rows(1))
    async with sessions.begin() as session:
        await UPSERT.execute(session, [], new=_rows(3, order=10, at=T0 + timedelta(hours=1)))
    assert [row[1] for row in await _stored(sessions)] == [10, 11, 12]
    large = _rows(COPY_THRESHOLD + 5, order=500, at=T0 + timedelta(hours=2))
    if db_backend == "postgres":
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                await UPSERT.execute(session, [], new=large)
        assert [row[1] for row in await _stored(sessions)] == [10, 11, 12]
    else:
        async with sessions.begin() as session:
            await UPSERT.execute(session, [], new=large)
        assert len(await _stored(sessions)) == COPY_THRESHOLD + 5
