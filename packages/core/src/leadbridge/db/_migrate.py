"""Run Alembic migrations of core and of every plugin branch over an async engine."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

_MIGRATIONS = Path(__file__).parent / "migrations"

#: Core's branch label; plugins label theirs with their integration name.
CORE_BRANCH = "core"


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

    ``{branch: {"current": rev | None, "head": rev, "up_to_date": bool}}``
    """
    script = ScriptDirectory.from_config(alembic_config(extra_locations))

    def read(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as conn:
        heads = await conn.run_sync(read)
    # alembic_version keeps heads only: everything below them (dependencies too) is applied.
    applied = {r.revision for r in script.iterate_revisions(tuple(heads), "base") if r}
    labels = sorted({label for rev in script.walk_revisions() for label in rev.branch_labels})
    result: dict[str, dict[str, Any]] = {}
    for label in labels or [CORE_BRANCH]:
        head = script.get_revision(f"{label}@head")
        assert head is not None
        at: str | None = None
        rev = head
        # Walk down this branch only (down_revision, not depends_on) to its labelled base.
        while rev is not None:
            if rev.revision in applied:
                at = rev.revision
                break
            if label in rev.branch_labels or not isinstance(rev.down_revision, str):
                break
            rev = script.get_revision(rev.down_revision)
        result[label] = {"current": at, "head": head.revision, "up_to_date": at == head.revision}
    return result
