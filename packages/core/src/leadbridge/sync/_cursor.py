"""Where one object's pull stands (``sync_cursors``), and whether this run moves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from ._models import SyncCursorRow


@dataclass
class PullCursor:
    """The pull cursor of ``object`` of ``integration``.

    ``moves`` is false for a run that must not move it: a targeted run (``ids``) would skip
    objects past it, a dry run records nothing.
    """

    integration: str
    object: str
    run_id: int | None
    #: a ``sync_cursors`` row exists
    stored: bool
    moves: bool

    async def save(self, session: AsyncSession, value: str | None, now: datetime) -> None:
        """Store ``value`` in ``session``; call :meth:`committed` once it committed."""
        if not self.moves:
            return
        values = {"value": value, "run_id": self.run_id, "updated_at": now}
        if self.stored:
            await session.execute(
                update(SyncCursorRow)
                .where(
                    SyncCursorRow.integration == self.integration,
                    SyncCursorRow.object == self.object,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        else:
            await session.execute(
                insert(SyncCursorRow).values(
                    integration=self.integration, object=self.object, **values
                )
            )

    def committed(self) -> None:
        self.stored = self.stored or self.moves
