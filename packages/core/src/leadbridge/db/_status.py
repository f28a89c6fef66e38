"""Where each migration branch stands, read cheaply enough for a readiness probe."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

#: Core's branch label; plugins label theirs with their integration name.
CORE_BRANCH = "core"


class MigrationStatus:
    """Compares the database's applied revisions with the installed migration scripts.

    The scripts do not change while a process runs: they are read on the first call and kept,
    and so is the answer for each set of applied revisions. Each :meth:`read` then costs one
    short connection (the ``alembic_version`` rows).
    """

    def __init__(self, extra_locations: Sequence[str | Path] = ()) -> None:
        self._locations = tuple(extra_locations)
        self._script: ScriptDirectory | None = None
        self._answers: dict[frozenset[str], dict[str, dict[str, Any]]] = {}

    async def read(self, engine: AsyncEngine) -> dict[str, dict[str, Any]]:
        """``{branch: {"current": rev | None, "head": rev, "up_to_date": bool}}``."""

        def heads_of(connection: Connection) -> frozenset[str]:
            return frozenset(MigrationContext.configure(connection).get_current_heads())

        async with engine.connect() as conn:
            heads = await conn.run_sync(heads_of)
        answer = self._answers.get(heads)
        if answer is None:
            answer = self._answers[heads] = self._compare(heads)
        return {branch: dict(state) for branch, state in answer.items()}

    def _scripts(self) -> ScriptDirectory:
        if self._script is None:
            from ._migrate import alembic_config  # the config names where the scripts are

            self._script = ScriptDirectory.from_config(alembic_config(self._locations))
        return self._script

    def _compare(self, heads: frozenset[str]) -> dict[str, dict[str, Any]]:
        script = self._scripts()
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
            result[label] = {
                "current": at,
                "head": head.revision,
                "up_to_date": at == head.revision,
            }
        return result
