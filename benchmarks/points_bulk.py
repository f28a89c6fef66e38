"""points_bulk: award one point action to N contacts at once with ``PointsService.award_bulk``.

Measured: a repeatable action awarded to every contact (given as a ``SELECT`` of their ids).
Floor: the same rows written by a hand-written ``UPDATE contacts SET points = points + d``
plus ``INSERT INTO point_changes … SELECT`` in one transaction. Every run starts from the
same state (no points, an empty log); each figure is the best of five (floor and ours interleaved).

Extra figures: the same award given a Python list of ids (what a sync page hands over); with
a published threshold trigger watching the total (the trigger check runs too); the
non-repeatable path (award keys, ``INSERT … ON CONFLICT DO NOTHING``) against its own
hand-written floor; and replaying that award (every contact already has it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from cryptography.fernet import Fernet
from dependency_injector import providers
from sqlalchemy import insert, select, text

from leadbridge import CoreContainer, Settings, shutdown
from leadbridge.contacts import ContactRow

from ._common import peak_rss_mb, result, stopwatch

SIZES = {"smoke": 5_000, "full": 100_000}
DELTA = 5


async def _seed(container: CoreContainer, n: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "email": f"user{i}@example.com",
            "email_key": f"user{i}@example.com",
            "points": 0,
            "fields": {},
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    async with container.engine().begin() as conn:
        for start in range(0, n, 10_000):
            await conn.execute(insert(ContactRow.__table__), rows[start : start + 10_000])


_FLOOR_REPEATABLE = [
    "UPDATE contacts SET points = points + :delta",
    "INSERT INTO point_changes (contact_id, action_id, group_id, delta, reason, created_at) "
    "SELECT id, :action_id, NULL, :delta, :reason, :now FROM contacts",
]

_FLOOR_ONCE = [
    "INSERT INTO point_awards (action_id, contact_id, awarded_at) "
    "SELECT :action_id, id, :now FROM contacts WHERE true ON CONFLICT DO NOTHING",
    "UPDATE contacts SET points = points + :delta WHERE id IN "
    "(SELECT contact_id FROM point_awards WHERE action_id = :action_id)",
    "INSERT INTO point_changes (contact_id, action_id, group_id, delta, reason, created_at) "
    "SELECT contact_id, :action_id, NULL, :delta, :reason, :now FROM point_awards "
    "WHERE action_id = :action_id",
]


async def _floor(container: CoreContainer, statements: list[str], action_id: int) -> float:
    params = {"delta": DELTA, "action_id": action_id, "reason": "floor", "now": _now(container)}
    with stopwatch() as watch:
        async with container.engine().begin() as conn:
            for sql in statements:
                await conn.execute(text(sql), params)
    return watch.seconds


def _now(container: CoreContainer) -> Any:
    now = datetime.now(UTC)
    # SQLite stores naive UTC text (see leadbridge.db.UTCDateTime).
    return now.replace(tzinfo=None) if container.engine().dialect.name == "sqlite" else now


async def _reset(container: CoreContainer) -> None:
    """Back to no points and an empty log, so that every run writes into the same state."""
    engine = container.engine()
    async with engine.begin() as conn:
        for sql in (
            "DELETE FROM point_trigger_fires",
            "DELETE FROM point_changes",
            "DELETE FROM point_awards",
            "UPDATE contacts SET points = 0",
        ):
            await conn.execute(text(sql))
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE"))


async def _best(
    runs: int, reset: Callable[[], Awaitable[None]], go: Callable[[], Awaitable[float]]
) -> float:
    best = float("inf")
    for _ in range(runs):
        await reset()
        best = min(best, await go())
    return best


async def _measure(database_url: str, n: int, runs: int) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=database_url,
            data_dir=Path(tmp),
            secret_key=Fernet.generate_key().decode(),
        )
        container = CoreContainer(settings=providers.Object(settings))
        try:
            await _seed(container, n)
            points = container.points_service()
            repeatable = await points.create_action(
                "Replay watched", "contact.created", DELTA, repeatable=True
            )
            once = await points.create_action("Attended", "contact.created", DELTA)
            async with container.session_factory()() as session:
                ids = list(await session.scalars(select(ContactRow.id)))

            async def reset() -> None:
                await _reset(container)

            async def award(action_id: int, contacts: Any, expected: int) -> float:
                with stopwatch() as watch:
                    awarded = await points.award_bulk(action_id, contacts)
                assert awarded == {action_id: expected}, awarded
                return watch.seconds

            every = select(ContactRow.id)
            seconds = {"floor": float("inf"), "ours": float("inf")}
            for _ in range(runs):  # interleaved, so that drift hits both alike
                await reset()
                floor = await _floor(container, _FLOOR_REPEATABLE, repeatable.id)
                seconds["floor"] = min(seconds["floor"], floor)
                await reset()
                seconds["ours"] = min(seconds["ours"], await award(repeatable.id, every, n))
            rss = peak_rss_mb()
            seconds["ids_list"] = await _best(runs, reset, lambda: award(repeatable.id, ids, n))
            seconds["once_floor"] = await _best(
                runs, reset, lambda: _floor(container, _FLOOR_ONCE, once.id)
            )
            seconds["once"] = await _best(runs, reset, lambda: award(once.id, every, n))
            with stopwatch() as replay:  # every contact has the award key: nothing to do
                await award(once.id, every, 0)

            await points.create_trigger(
                "Far away", 10 * DELTA, [{"type": "contact.add_tag", "settings": {"tag": "hot"}}]
            )
            seconds["with_trigger"] = await _best(
                runs, reset, lambda: award(repeatable.id, every, n)
            )
        finally:
            await shutdown(container)
    return {
        "seconds": seconds["ours"],
        "floor": seconds["floor"],
        "rss": rss,
        "ids_list_seconds": round(seconds["ids_list"], 3),
        "with_trigger_seconds": round(seconds["with_trigger"], 3),
        "non_repeatable_seconds": round(seconds["once"], 3),
        "non_repeatable_floor_seconds": round(seconds["once_floor"], 3),
        "non_repeatable_ratio": round(seconds["once"] / seconds["once_floor"], 2),
        "replay_seconds": round(replay.seconds, 3),
    }


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SIZES[scale]
    m = asyncio.run(_measure(database_url, n, runs=5))
    extra = {k: v for k, v in m.items() if k not in ("seconds", "floor", "rss")}
    return result("points_bulk", db, n, m["seconds"], m["floor"], m["rss"], **extra)
