"""The record of an integration's runs: the ``sync_runs`` row, the lease and its heartbeat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import ValidationError
from ._counters import SyncCounters
from ._errors import SyncLeaseLostError, SyncLockedError, SyncRunError
from ._holder import LeaseHolder
from ._models import SyncLeaseRow, SyncRunRow
from ._options import SyncOptions, SyncTrigger
from ._results import SyncStatus
from ._run_state import RunState

log = logging.getLogger("leadbridge.sync")


class RunRecorder:
    """Starts (or resumes) runs under the integration's lease, beats its heartbeat, saves
    counters with each page and records the end. Only one run per integration holds the
    lease at a time, across processes; a lease whose heartbeat is older than
    ``lease_timeout`` (or whose holder process on this machine is gone) is taken over.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        holder: LeaseHolder,
        clock: Callable[[], datetime],
        heartbeat_interval: float,
        lease_timeout: float,
    ) -> None:
        self._sessions = session_factory
        self._holder = holder
        self._clock = clock
        self._heartbeat_interval = heartbeat_interval
        self._lease_timeout = timedelta(seconds=lease_timeout)

    async def cancel(self, run_id: int) -> None:
        """Ask a running run (in any process) to stop after its current page."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(SyncRunRow)
                .where(SyncRunRow.id == run_id, SyncRunRow.status == SyncStatus.RUNNING.value)
                .values(cancel_requested=True)
            )

    async def start(
        self,
        integration: str,
        trigger: SyncTrigger,
        options: SyncOptions,
        run_id: int | None,
    ) -> tuple[int, SyncCounters]:
        for attempt in range(2):
            try:
                async with self._sessions.begin() as session:
                    return await self._acquire(session, integration, trigger, options, run_id)
            except IntegrityError as exc:
                # Two processes inserted the first lease row at once; the loser looks again.
                if attempt:
                    raise SyncLockedError(
                        f"a sync of {integration} is starting in another process",
                        integration=integration,
                        run_id=None,
                    ) from exc
        raise AssertionError("unreachable")

    async def _acquire(
        self,
        session: AsyncSession,
        integration: str,
        trigger: SyncTrigger,
        options: SyncOptions,
        run_id: int | None,
    ) -> tuple[int, SyncCounters]:
        now = self._clock()
        lease = (
            await session.execute(
                select(SyncLeaseRow)
                .where(SyncLeaseRow.integration == integration)
                .with_for_update()
            )
        ).scalar_one_or_none()
        abandoned: int | None = None
        if lease is not None and lease.run_id is not None and lease.run_id != run_id:
            if self._alive(lease, now):
                ago = (now - lease.heartbeat_at).total_seconds() if lease.heartbeat_at else 0.0
                raise SyncLockedError(
                    f"a sync of {integration} is already running: run {lease.run_id} "
                    f"({lease.holder}, last heartbeat {max(ago, 0):.0f}s ago)",
                    integration=integration,
                    run_id=lease.run_id,
                )
            abandoned = lease.run_id
        if run_id is None:
            run = SyncRunRow(
                integration=integration,
                trigger=trigger.value,
                options=options.to_dict(),
                status=SyncStatus.RUNNING.value,
                started_at=now,
                heartbeat_at=now,
                holder=self._holder.label,
                cancel_requested=False,
            )
            session.add(run)
            await session.flush()
        else:
            run = await self._resume(session, integration, run_id, now)
        if abandoned is not None:
            log.warning("sync %s: taking over the lease of run %s", integration, abandoned)
            await session.execute(
                update(SyncRunRow)
                .where(SyncRunRow.id == abandoned, SyncRunRow.status == SyncStatus.RUNNING.value)
                .values(
                    status=SyncStatus.FAILED.value,
                    finished_at=now,
                    error=f"abandoned: its process stopped; run {run.id} took over",
                )
            )
        if lease is None:
            await session.execute(
                insert(SyncLeaseRow).values(
                    integration=integration,
                    run_id=run.id,
                    holder=self._holder.label,
                    instance_id=self._holder.instance_id,
                    process_scope=self._holder.scope,
                    acquired_at=now,
                    heartbeat_at=now,
                )
            )
        else:
            lease.run_id, lease.holder = run.id, self._holder.label
            lease.instance_id, lease.process_scope = self._holder.instance_id, self._holder.scope
            lease.acquired_at = lease.heartbeat_at = now
        await session.flush()
        resumed = SyncCounters(**{name: getattr(run, name) for name in SyncCounters().to_dict()})
        return run.id, resumed

    async def _resume(
        self, session: AsyncSession, integration: str, run_id: int, now: datetime
    ) -> SyncRunRow:
        """Run ``run_id`` (queued, or left behind by a process that died or stopped) here."""
        run = await session.get(SyncRunRow, run_id, with_for_update=True)
        if run is None or run.integration != integration:
            raise ValidationError(
                f"sync run {run_id} is not a run of {integration}", field="run_id", value=run_id
            )
        if run.status not in (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.FAILED):
            raise SyncRunError(f"sync run {run_id} has ended ({run.status}); it cannot run again")
        if run.status == SyncStatus.QUEUED and run.finished_at is None and not run.error:
            run.started_at = now  # its first start: the queued time was its creation
        if run.status == SyncStatus.RUNNING:
            log.warning("sync %s: resuming run %s (%s stopped)", integration, run_id, run.holder)
        run.status, run.error, run.finished_at = SyncStatus.RUNNING.value, None, None
        run.heartbeat_at, run.holder = now, self._holder.label
        await session.flush()
        return run

    def _alive(self, lease: SyncLeaseRow, now: datetime) -> bool:
        if lease.heartbeat_at is None or now - lease.heartbeat_at > self._lease_timeout:
            return False
        return not self._holder.sees_gone(lease)

    async def heartbeat(self, run: RunState) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            try:
                async with self._sessions.begin() as session:
                    await self._beat(session, run, self._clock())
                    flag = await session.scalar(
                        select(SyncRunRow.cancel_requested).where(SyncRunRow.id == run.run_id)
                    )
                if flag:
                    run.cancel.set()
            except SyncLeaseLostError as exc:
                run.lost = exc  # the run stops before its next page
                return
            except Exception as exc:  # a missed heartbeat is not fatal; the next one may work
                log.warning("sync %s: heartbeat failed: %s", run.integration, exc)
                log.debug("heartbeat failure", exc_info=True)

    async def _beat(self, session: AsyncSession, run: RunState, now: datetime) -> None:
        result = await session.execute(
            update(SyncLeaseRow)
            .where(
                SyncLeaseRow.integration == run.integration,
                SyncLeaseRow.run_id == run.run_id,
                # A run resumed elsewhere (its worker was thought dead) is no longer ours.
                SyncLeaseRow.instance_id == self._holder.instance_id,
            )
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            taker = await session.scalar(  # the run that took over: the first one after ours
                select(SyncRunRow)
                .where(SyncRunRow.integration == run.integration, SyncRunRow.id > run.run_id)
                .order_by(SyncRunRow.id)
                .limit(1)
            )
            raise SyncLeaseLostError(
                integration=run.integration,
                run_id=run.run_id or 0,
                taken_by=taker.id if taker is not None else None,
                holder=taker.holder if taker is not None else None,
            )
        await session.execute(
            update(SyncRunRow)
            .where(SyncRunRow.id == run.run_id)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )

    async def save(
        self, session: AsyncSession, run: RunState, delta: SyncCounters, now: datetime
    ) -> None:
        """Counters as they will be once this transaction commits, and a heartbeat."""
        if run.run_id is None:  # not recorded: nothing to save
            return
        totals = run.counters.copy()
        totals.add(delta)
        await self._beat(session, run, now)
        await session.execute(
            update(SyncRunRow)
            .where(SyncRunRow.id == run.run_id)
            .values(**totals.to_dict())
            .execution_options(synchronize_session=False)
        )
        flag = await session.scalar(
            select(SyncRunRow.cancel_requested).where(SyncRunRow.id == run.run_id)
        )
        if flag:
            run.cancel.set()

    async def finish(
        self, run: RunState, status: SyncStatus, error: str | None, now: datetime
    ) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(SyncRunRow)
                .where(SyncRunRow.id == run.run_id)
                .values(
                    status=status.value,
                    error=error,
                    finished_at=None if status is SyncStatus.QUEUED else now,
                    heartbeat_at=now,
                    **run.counters.to_dict(),
                )
            )
            await session.execute(
                update(SyncLeaseRow)
                .where(
                    SyncLeaseRow.integration == run.integration,
                    SyncLeaseRow.run_id == run.run_id,
                )
                .values(run_id=None, holder=None)
            )
