"""``key_set``: a string key list bound as one parameter, looked up on either database."""

from __future__ import annotations

from sqlalchemy import select

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.db import dialect_insert, key_set

KEYS = ["plain@example.com", "o'brien@example.com", 'quote"d@example.com', "zoë@exämple.com"]


async def _store(container: CoreContainer, keys: list[str]) -> None:
    async with container.session_factory().begin() as session:
        rows = [{"email": key, "email_key": key} for key in keys]
        await session.execute(dialect_insert(session, ContactRow.__table__).values(rows))


async def _found(container: CoreContainer, keys: list[str]) -> list[str]:
    async with container.session_factory()() as session:
        query = select(ContactRow.email_key).where(ContactRow.email_key.in_(key_set(session, keys)))
        return sorted((await session.scalars(query)).all())


async def test_finds_the_stored_keys_and_only_those(container: CoreContainer) -> None:
    await _store(container, [*KEYS, "other@example.com"])
    wanted = [*KEYS, "missing@example.com", "O'BRIEN@example.com", "'; drop table x; --"]
    assert await _found(container, wanted) == sorted(KEYS)
    assert await _found(container, ["missing@example.com"]) == []


async def test_an_empty_list_finds_nothing(container: CoreContainer) -> None:
    await _store(container, KEYS)
    assert await _found(container, []) == []


async def test_far_more_keys_than_a_statement_takes_parameters(container: CoreContainer) -> None:
    stored = [f"p{i}@example.com" for i in range(0, 40_000, 97)]
    await _store(container, stored)
    # 40,000 keys: beyond the drivers' 32,767 parameters, were each key bound on its own.
    wanted = [f"p{i}@example.com" for i in range(40_000)]
    assert await _found(container, wanted) == sorted(stored)
