"""The public statement helpers plugins use: ``chunked``, ``dialect_insert``, ``id_set``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.db import IN_LIST_SIZE, chunked, dialect_insert, dialect_name, id_set


def test_chunked_covers_every_item_once_in_order() -> None:
    items = list(range(IN_LIST_SIZE * 2 + 3))
    pieces = list(chunked(items))
    assert [len(p) for p in pieces] == [IN_LIST_SIZE, IN_LIST_SIZE, 3]
    assert [i for piece in pieces for i in piece] == items
    assert list(chunked([], 5)) == []


def test_chunked_refuses_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked([1, 2], 0))


async def test_dialect_insert_upserts_and_id_set_selects_many_ids(container: CoreContainer) -> None:
    async with container.session_factory().begin() as session:
        rows = [{"email": f"p{i}@example.com", "email_key": f"p{i}@example.com"} for i in range(3)]
        insert = dialect_insert(session, ContactRow.__table__)
        await session.execute(insert.values(rows).on_conflict_do_nothing())
        await session.execute(insert.values(rows[:1]).on_conflict_do_nothing())
        ids = list((await session.scalars(select(ContactRow.id))).all())
        assert len(ids) == 3
        assert dialect_name(session) in ("sqlite", "postgresql")
        # Far more ids than a driver accepts as separate parameters, bound as one.
        wanted = ids + list(range(10**6, 10**6 + 40_000))
        query = select(ContactRow.id).where(ContactRow.id.in_(id_set(session, wanted)))
        found = (await session.scalars(query)).all()
        assert sorted(found) == sorted(ids)
