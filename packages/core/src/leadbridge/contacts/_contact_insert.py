"""New contacts written as the driver takes them: plain tuples through one bulk insert.

SQLAlchemy's executemany builds a parameter dictionary per row and runs every column's bind
processor on every row; here each row is one tuple in the table's column order, written by a
:class:`~leadbridge.db.BulkInsert` (``COPY`` on PostgreSQL for a batch of
:data:`~leadbridge.db.COPY_THRESHOLD` rows or more, inside the session's transaction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import BulkInsert
from ._fields import CORE_FIELDS
from ._models import ContactRow

_CONTACTS = cast(Table, ContactRow.__table__)
#: Core fields after ``email``, in the table's column order.
_NAMES = tuple(name for name in CORE_FIELDS if name != "email")
#: The columns written, in the order the rows hold them.
_COLUMNS = ("id", "email", "email_key", *_NAMES, "points", "fields", "created_at", "updated_at")
_INSERT = BulkInsert(_CONTACTS, _COLUMNS)


async def insert_contacts(
    session: AsyncSession,
    ids: Sequence[int],
    values: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    now: datetime,
) -> None:
    """Insert new contacts: ``ids[i]`` with normalized ``values[i]`` and email key ``keys[i]``.

    A taken email key raises :class:`sqlalchemy.exc.IntegrityError` (the caller retries).
    """
    rows = [
        (
            cid,
            row["email"],
            key,
            *map(row.get, _NAMES),
            0,
            {k: v for k, v in row.items() if v is not None and k not in CORE_FIELDS},
            now,
            now,
        )
        for cid, row, key in zip(ids, values, keys, strict=True)
    ]
    await _INSERT.execute(session, rows)
