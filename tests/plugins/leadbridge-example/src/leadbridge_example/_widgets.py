"""The plugin's own table (its own Alembic branch) and an event subscriber."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadbridge.events import ContactCreated

metadata = sa.MetaData()
widgets = sa.Table(
    "example_widgets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
)

#: Contact ids the subscriber saw created (tests read it).
SEEN_CONTACTS: list[int] = []


async def remember_contact(event: ContactCreated) -> None:
    SEEN_CONTACTS.append(event.contact_id)


class WidgetRepository:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def add(self, name: str) -> None:
        async with self._session_factory.begin() as session:
            await session.execute(sa.insert(widgets).values(name=name))

    async def names(self) -> list[Any]:
        async with self._session_factory() as session:
            return list((await session.scalars(sa.select(widgets.c.name))).all())
