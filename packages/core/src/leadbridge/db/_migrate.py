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
        stored = await conn.run_sync(read)
    # alembic_version keeps heads only; a revision another branch depends on is applied too.
    applied = {r.revision for r in script.iterate_revisions(tuple(stored), "base") if r}
    result: dict[str, dict[str, Any]] = {}
    # get_heads(), not get_revisions("heads"): the latter drops a head that another branch
    # names in depends_on (core_0001 under every concern's branch).
    for head in map(script.get_revision, script.get_heads()):
        assert head is not None
        # Walk down this branch only (down_revision, not depends_on) to its labelled base: the
        # label names the branch, the first revision found applied is where it stands.
        label: str | None = None
        at: str | None = None
        rev = head
        while rev is not None:
            if at is None and rev.revision in applied:
                at = rev.revision
            if rev.branch_labels:
                label = sorted(rev.branch_labels)[0]
                break
            down = rev.down_revision
            if not isinstance(down, str):
                break  # a merge point or the base: named by the core label
            rev = script.get_revision(down)
        result[label or CORE_BRANCH] = {
            "current": at,
            "head": head.revision,
            "up_to_date": at == head.revision,
        }
    return result
