"""Run Alembic migrations of core and of every plugin branch over an async engine."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ._status import MigrationStatus

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(extra_locations: Sequence[str | Path] = ()) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    locations = [str(_MIGRATIONS / "versions"), *(str(p) for p in extra_locations)]
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    return cfg


async def _run(engine: AsyncEngine, fn: Any, cfg: Config, *args: Any) -> None:
    def run(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        fn(cfg, *args)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def upgrade(
    engine: AsyncEngine, extra_locations: Sequence[str | Path] = (), revision: str = "heads"
) -> None:
    """Upgrade core and every given plugin branch (``revision='heads'``) in one transaction."""
    await _run(engine, command.upgrade, alembic_config(extra_locations), revision)


async def downgrade(
    engine: AsyncEngine, extra_locations: Sequence[str | Path] = (), revision: str = "base"
) -> None:
    await _run(engine, command.downgrade, alembic_config(extra_locations), revision)


async def current(
    engine: AsyncEngine, extra_locations: Sequence[str | Path] = ()
) -> dict[str, dict[str, Any]]:
    """Where each branch stands.

    ``{branch: {"current": rev | None, "head": rev, "up_to_date": bool}}``; a caller that asks
    often (a readiness probe) keeps a :class:`MigrationStatus` instead.
    """
    return await MigrationStatus(extra_locations).read(engine)
