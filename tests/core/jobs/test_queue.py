"""The job queue without workers: transactional defers, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from leadbridge import CoreContainer
from leadbridge.jobs import JobStatus, QueueUnavailableError, ScheduleRow
from leadbridge.sync import SyncOptions


class _Boom(Exception):
    pass


async def test_a_job_and_the_data_that_caused_it_commit_together(
    container: CoreContainer, db_backend: str
) -> None:
    if db_backend != "postgres":
        pytest.skip("the queue is PostgreSQL's")
    async with container.job_queue() as queue:
        with pytest.raises(_Boom):
            async with queue.transaction() as session:
                session.add(_row())
                await session.flush()
                assert await queue.defer("prune", {}, session=session) is not None
                raise _Boom
        assert await queue.count() == 0
        async with queue.transaction() as session:
            session.add(_row())
            await queue.defer("prune", {}, session=session)
        [job] = await queue.jobs()
        assert (job.kind, job.status) == ("prune", JobStatus.TODO)
        with pytest.raises(Exception, match="dry run"):
            await queue.defer_sync("memory", SyncOptions(dry_run=True))
    async with container.session_factory()() as session:
        assert await session.scalar(select(func.count()).select_from(ScheduleRow)) == 1
        assert await session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 1


async def test_there_is_no_queue_on_sqlite(container: CoreContainer, db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite behaviour")
    queue = container.job_queue()
    assert not queue.available
    with pytest.raises(QueueUnavailableError, match="only on PostgreSQL"):
        await queue.open()
    with pytest.raises(QueueUnavailableError):
        await queue.jobs()


def _row() -> ScheduleRow:
    """Any row will do as the data that causes the job."""
    due = datetime(2030, 1, 1, tzinfo=UTC)
    return ScheduleRow(
        kind="prune", cron="* * * * *", timezone="UTC", enabled=True, next_due_at=due
    )
