"""The job queue on PostgreSQL: procrastinate, in the database LeadBridge already uses.

Jobs are deferred through a psycopg connection (procrastinate's driver), so that a queued
sync run and its job are written in one transaction: both exist, or neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from procrastinate import App, BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate import exceptions as queue_errors
from procrastinate.app import WorkerOptions
from procrastinate.jobs import Job
from procrastinate.periodic import PeriodicDeferrer
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .._choice import parse_choice
from .._errors import ConflictError, NotFoundError, ValidationError
from ..db import utcnow
from ..observability import record_job_failed, record_job_retried
from ..sync import SyncOptions, SyncRun, SyncRunRow, SyncStatus, SyncTrigger
from ._catalog import JobCatalog
from ._errors import JobError, JobInterruptedError, QueueUnavailableError, RetriableJobError
from ._functions import options_from_dict
from ._kinds import JobKind
from ._models import JobErrorRow
from ._schedules import Schedule, ScheduleService
from ._snapshot import JobQueueSnapshot, KindLoad, WorkerHeartbeat

log = logging.getLogger("leadbridge.jobs")

_PREFIX = "leadbridge."
_TICK = "leadbridge.tick"
#: The queue's jobs by kind and status; a queued job waits since it was (re)queued or due.
_LOAD = f"""
SELECT j.task_name, j.status::text, count(*),
       coalesce(extract(epoch FROM now() - min(CASE
           WHEN j.status = 'todo' AND coalesce(j.scheduled_at <= now(), true)
           THEN greatest(j.scheduled_at, (
               SELECT max(e.at) FROM procrastinate_events e
               WHERE e.job_id = j.id AND e.type IN ('deferred', 'deferred_for_retry', 'retried')
           ))
       END)), 0)
FROM procrastinate_jobs j
WHERE j.status IN ('todo', 'doing') AND j.task_name LIKE '{_PREFIX}%' AND j.task_name <> '{_TICK}'
GROUP BY j.task_name, j.status
"""
_HEARTBEAT = (
    "SELECT count(*), max(last_heartbeat), extract(epoch FROM now() - max(last_heartbeat)) "
    "FROM procrastinate_workers"
)
_UNAVAILABLE = (
    "jobs are queued only on PostgreSQL and this database is SQLite: run the sync now "
    "(without --defer); `leadbridge worker` runs schedules in its own process"
)


class JobStatus(enum.StrEnum):
    """A queued job's status, as procrastinate records it."""

    TODO = "todo"
    DOING = "doing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABORTING = "aborting"
    ABORTED = "aborted"


@dataclass(frozen=True)
class QueuedJob:
    """A job in the queue."""

    id: int
    kind: str
    target: str | None
    status: JobStatus
    attempts: int
    queue: str
    scheduled_at: datetime | None
    last_error: str | None
    run_id: int | None
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "status": self.status.value,
            "attempts": self.attempts,
            "queue": self.queue,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "last_error": self.last_error,
            "run_id": self.run_id,
            "arguments": self.arguments,
        }


def _target(kind: str, arguments: Mapping[str, Any]) -> str | None:
    value = arguments.get({"sync": "integration", "segments": "alias"}.get(kind, "target"))
    return str(value) if value is not None else None


def sync_lock(integration: str) -> str:
    """The ``lock`` and ``queueing_lock`` of an integration's sync jobs."""
    return f"sync:{integration}"


class _Backoff(BaseRetryStrategy):
    """Retriable failures again after ``base``², ``base``³ … seconds, up to ``max_attempts``
    runs; an interrupted job (its worker stopped) again at once; anything else never."""

    def __init__(self, max_attempts: int, base: float) -> None:
        self.max_attempts = max_attempts
        self.base = base

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, JobInterruptedError):
            return RetryDecision(retry_at=utcnow())
        wait = self.wait(exception, job.attempts)
        return RetryDecision(retry_at=utcnow() + wait) if wait is not None else None

    def wait(self, exception: BaseException, attempts: int) -> timedelta | None:
        """How long before a retriable failure runs again (``None``: never)."""
        if isinstance(exception, RetriableJobError) and attempts + 1 < self.max_attempts:
            return timedelta(seconds=self.base ** (attempts + 1))
        return None


class JobQueue:
    """procrastinate on PostgreSQL: defers jobs and runs workers.

    Nothing is opened until :meth:`open` (or ``async with``). ``max_attempts`` and
    ``backoff_base`` shape the retries of retriable failures.
    """

    def __init__(
        self,
        database_url: str,
        catalog: JobCatalog,
        schedules: ScheduleService,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._url = make_url(database_url)
        self._catalog = catalog
        self._schedules = schedules
        self._sf = session_factory
        self._retry = _Backoff(max(1, max_attempts), backoff_base)
        self._clock = clock
        self._app: App | None = None
        self._opening: asyncio.Lock | None = None
        self._defer_engine: AsyncEngine | None = None
        self._defer_sf: async_sessionmaker[AsyncSession] | None = None
        #: set when this process's worker stops: running syncs end after their page
        self._stopping: asyncio.Event | None = None

    @property
    def available(self) -> bool:
        """Whether this database has a queue (PostgreSQL)."""
        return self._url.get_backend_name() == "postgresql"

    def require(self) -> None:
        if not self.available:
            raise QueueUnavailableError(_UNAVAILABLE)

    # -- opening -----------------------------------------------------------------------------

    async def open(self, *, pool_size: int = 4) -> None:
        """Connect (once: opening an open queue, even concurrently, does nothing)."""
        self.require()
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            await self._open(pool_size)

    async def _open(self, pool_size: int) -> None:
        if self._app is not None:
            return
        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        app = App(connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=pool_size))
        self._register(app)
        await app.open_async()
        self._app = app
        self._defer_engine = create_async_engine(
            self._url.set(drivername="postgresql+psycopg"), pool_size=pool_size, max_overflow=0
        )
        self._defer_sf = async_sessionmaker(self._defer_engine, expire_on_commit=False)

    async def close(self) -> None:
        if self._app is not None:
            await self._app.close_async()
            self._app = None
        if self._defer_engine is not None:
            await self._defer_engine.dispose()
            self._defer_engine = None

    async def __aenter__(self) -> JobQueue:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _opened(self) -> tuple[App, async_sessionmaker[AsyncSession]]:
        self.require()
        if self._app is None or self._defer_sf is None:
            raise RuntimeError("open the job queue first (await queue.open())")
        return self._app, self._defer_sf

    def _register(self, app: App) -> None:
        for kind in self._catalog.names:
            app.task(name=_PREFIX + kind, queue=kind, retry=self._retry, pass_context=True)(
                self._job_function(kind)
            )

        async def tick(timestamp: int) -> str:
            return await self.tick(datetime.fromtimestamp(timestamp, UTC))

        # Every worker runs procrastinate's periodic deferrer; it defers each minute's tick once.
        app.periodic(cron="* * * * *", periodic_id="schedules")(
            app.task(name=_TICK, queue="schedules")(tick)
        )

    def _job_function(self, kind: str) -> Callable[..., Any]:
        async def job(context: JobContext, **arguments: Any) -> str:
            return await self._run_job(kind, context.job, arguments)

        job.__name__ = f"{kind}_job"
        return job

    # -- running a job -----------------------------------------------------------------------

    async def _run_job(self, kind: str, job: Job, arguments: dict[str, Any]) -> str:
        schedule_id = arguments.get("schedule_id")
        try:
            outcome = await self._catalog.run(kind, arguments, stop=self._stopping)
        except Exception as exc:
            message = str(exc) if isinstance(exc, JobError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, JobInterruptedError):  # a stopping worker is no failure
                retried = self._retry.wait(exc, job.attempts) is not None
                (record_job_retried if retried else record_job_failed)(kind)
            await self._record_error(job, message)
            if schedule_id is not None and not isinstance(exc, JobInterruptedError):
                await self._schedules.record_outcome(schedule_id, f"failed: {message}")
            raise
        if schedule_id is not None:
            await self._schedules.record_outcome(schedule_id, outcome)
        return outcome

    async def _record_error(self, job: Job, message: str) -> None:
        assert job.id is not None
        async with self._sf.begin() as session:
            await session.execute(delete(JobErrorRow).where(JobErrorRow.job_id == job.id))
            await session.execute(
                insert(JobErrorRow).values(
                    job_id=job.id,
                    attempts=job.attempts + 1,
                    error=message[:4000],
                    failed_at=self._clock(),
                )
            )

    # -- deferring ---------------------------------------------------------------------------

    async def defer_sync(
        self,
        integration: str,
        options: SyncOptions | None = None,
        trigger: SyncTrigger = SyncTrigger.API,
        *,
        schedule_id: int | None = None,
    ) -> SyncRun:
        """Queue a sync: a run with status ``queued`` and its job, in one transaction.

        A sync of the integration already waiting absorbs this one (``queueing_lock``): its
        run is returned. Two syncs of one integration never run at once (``lock``).
        """
        options = options or SyncOptions()
        if options.dry_run:
            raise ValidationError("a dry run is not queued: run it now", field="dry_run")
        document = options.to_dict()
        options_from_dict(document)  # refuses what a job cannot carry
        app, defer_sf = self._opened()
        now = self._clock()
        lock = sync_lock(integration)
        try:
            async with defer_sf.begin() as session:
                row = SyncRunRow(
                    integration=integration,
                    trigger=SyncTrigger(trigger).value,
                    options=document,
                    status=SyncStatus.QUEUED.value,
                    started_at=now,
                    heartbeat_at=now,
                    holder="",
                    cancel_requested=False,
                )
                session.add(row)
                await session.flush()
                arguments: dict[str, Any] = {
                    "integration": integration,
                    "options": document,
                    "run_id": row.id,
                    "trigger": row.trigger,
                }
                if schedule_id is not None:
                    arguments["schedule_id"] = schedule_id
                await (
                    app.tasks[_PREFIX + JobKind.SYNC]
                    .configure(
                        lock=lock, queueing_lock=lock, connection=await _driver_connection(session)
                    )
                    .defer_async(**arguments)
                )
        except queue_errors.AlreadyEnqueued:
            waiting = await self._waiting_run(lock)
            if waiting is None:  # it started in between: queue this one again
                return await self.defer_sync(integration, options, trigger, schedule_id=schedule_id)
            return waiting
        return SyncRun.from_row(row)

    async def _waiting_run(self, lock: str) -> SyncRun | None:
        async with self._sf() as session:
            args = await session.scalar(
                text(
                    "SELECT args FROM procrastinate_jobs "
                    "WHERE queueing_lock = :lock AND status = 'todo'"
                ),
                {"lock": lock},
            )
            if not args or args.get("run_id") is None:
                return None
            row = await session.get(SyncRunRow, int(args["run_id"]))
        return SyncRun.from_row(row) if row is not None else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session (on procrastinate's driver) whose transaction also holds the jobs
        deferred with ``defer(…, session=session)``: the data that causes a job and the job
        commit together, or neither (a webhook delivery and its processing, say)."""
        _, defer_sf = self._opened()
        async with defer_sf.begin() as session:
            yield session

    async def defer(
        self,
        kind: JobKind | str,
        arguments: Mapping[str, Any],
        *,
        queueing_lock: str | None = None,
        session: AsyncSession | None = None,
    ) -> int | None:
        """Queue a job of ``kind``; ``None`` when ``queueing_lock`` found one waiting.

        With ``session`` (from :meth:`transaction`) the job is written in its transaction.
        """
        kind = str(kind)
        if kind == JobKind.SYNC:
            raise ValidationError("queue syncs with defer_sync (they carry a run)", field="kind")
        if kind not in self._catalog.names:
            raise ValidationError(f"job kind {kind!r} is unknown", field="kind", value=kind)
        app, _ = self._opened()
        connection = await _driver_connection(session) if session is not None else None
        try:
            return await (
                app.tasks[_PREFIX + kind]
                .configure(queueing_lock=queueing_lock, connection=connection)
                .defer_async(**dict(arguments))
            )
        except queue_errors.AlreadyEnqueued:
            return None

    async def defer_schedule(self, schedule: Schedule) -> str:
        """Queue a firing of ``schedule``; returns what happened."""
        if schedule.kind == JobKind.SYNC:
            assert schedule.target is not None
            run = await self.defer_sync(
                schedule.target, trigger=SyncTrigger.SCHEDULE, schedule_id=schedule.id
            )
            return f"queued run {run.id}"
        lock = f"{schedule.kind}:{schedule.target or ''}"
        job_id = await self.defer(
            schedule.kind, JobCatalog.arguments_of(schedule), queueing_lock=lock
        )
        return f"queued job {job_id}" if job_id is not None else "already queued"

    async def tick(self, now: datetime) -> str:
        """Queue every schedule due at ``now`` (the minute's periodic job runs this once)."""
        fired = await self._schedules.claim_due(now)
        for schedule in fired:
            try:
                await self.defer_schedule(schedule)
            except Exception as exc:  # one bad schedule must not hold back the others
                log.warning("schedule %s could not be queued: %s", schedule.id, exc)
                await self._schedules.record_outcome(schedule.id, f"not queued: {exc}")
        return f"{len(fired)} schedule(s) due"

    async def defer_tick(self, at: datetime) -> None:
        """Defer the schedules' tick of the minute ``at`` falls in, as each worker's periodic
        deferrer does every minute; however many processes call it, one tick is deferred."""
        app, _ = self._opened()
        deferrer = PeriodicDeferrer(registry=app.periodic_registry)
        await deferrer.defer_jobs(deferrer.get_previous_tasks(at=at.timestamp()))

    # -- looking and acting on jobs ----------------------------------------------------------

    async def jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        kind: str | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[QueuedJob]:
        """Jobs, newest first; ``before`` (a job id) pages back."""
        self.require()
        if not 1 <= limit <= 1000:
            raise ValidationError("limit must be between 1 and 1000", field="limit", value=limit)
        where, params = self._filters(status, kind)
        if before is not None:
            where.append("j.id < :before")
            params["before"] = before
        sql = (
            "SELECT j.id, j.task_name, j.args, j.status, j.attempts, j.queue_name, "
            "j.scheduled_at, e.error FROM procrastinate_jobs j "
            "LEFT JOIN job_errors e ON e.job_id = j.id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY j.id DESC LIMIT :limit"
        )
        async with self._sf() as session:
            rows = (await session.execute(text(sql), {**params, "limit": limit})).all()
        return [_queued_job(*row) for row in rows]

    async def count(self, *, status: JobStatus | str | None = None, kind: str | None = None) -> int:
        self.require()
        where, params = self._filters(status, kind)
        sql = "SELECT count(*) FROM procrastinate_jobs j" + (
            " WHERE " + " AND ".join(where) if where else ""
        )
        async with self._sf() as session:
            return int(await session.scalar(text(sql), params) or 0)

    async def snapshot(self) -> JobQueueSnapshot:
        """Jobs queued and running by kind (every kind, idle ones at 0), how long the oldest
        due job of each kind has waited, and the workers' heartbeat: two cheap statements.

        A queued job waiting for a retry's backoff (or deferred for later) counts as queued;
        its wait starts when it is due.
        """
        self.require()
        loads = {name: KindLoad() for name in self._catalog.names}
        async with self._sf() as session:
            rows = (await session.execute(text(_LOAD))).all()
            heartbeat = _heartbeat(*(await session.execute(text(_HEARTBEAT))).one())
        for task_name, status, jobs, oldest in rows:
            kind = task_name.removeprefix(_PREFIX)
            load = loads.get(kind, KindLoad())
            if status == JobStatus.DOING:
                loads[kind] = replace(load, running=int(jobs))
            else:
                loads[kind] = replace(load, queued=int(jobs), oldest_queued_seconds=float(oldest))
        return JobQueueSnapshot(loads, heartbeat)

    async def worker_heartbeat(self) -> WorkerHeartbeat:
        """How many workers report themselves, and their newest heartbeat. A worker that
        stops removes its row; a killed one's stays until another prunes it as stalled."""
        self.require()
        async with self._sf() as session:
            return _heartbeat(*(await session.execute(text(_HEARTBEAT))).one())

    @staticmethod
    def _filters(
        status: JobStatus | str | None, kind: str | None
    ) -> tuple[list[str], dict[str, Any]]:
        where: list[str] = [f"j.task_name LIKE '{_PREFIX}%'", f"j.task_name <> '{_TICK}'"]
        params: dict[str, Any] = {}
        if status is not None:
            parse_choice(JobStatus, status, field="status", label="job status")
            where.append("j.status = CAST(:status AS procrastinate_job_status)")
            params["status"] = str(status)
        if kind is not None:
            where.append("j.task_name = :task")
            params["task"] = _PREFIX + kind
        return where, params

    async def get(self, job_id: int) -> QueuedJob:
        jobs = await self.jobs(limit=1, before=job_id + 1)
        if not jobs or jobs[0].id != job_id:
            raise NotFoundError(f"job {job_id} does not exist")
        return jobs[0]

    async def cancel(self, job_id: int) -> QueuedJob:
        """Cancel a waiting job (a queued sync run ends ``cancelled``); a running one is
        asked to abort."""
        job = await self.get(job_id)
        app, defer_sf = self._opened()
        async with defer_sf.begin() as session:
            done = await app.job_manager.cancel_job_by_id_async(
                job_id, abort=True, connection=await _driver_connection(session)
            )
            if not done:
                raise ConflictError(f"job {job_id} is {job.status.value}; it cannot be cancelled")
            if job.run_id is not None and job.status is JobStatus.TODO:
                await _cancel_queued_run(session, job.run_id, self._clock())
        return await self.get(job_id)

    async def cancel_run(self, run_id: int) -> SyncRun:
        """Cancel a ``queued`` sync run and its job, in one transaction."""
        app, defer_sf = self._opened()
        async with defer_sf.begin() as session:
            row = await session.get(SyncRunRow, run_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"sync run {run_id} does not exist")
            if row.status != SyncStatus.QUEUED.value:
                raise ConflictError(f"sync run {run_id} is not queued (it is {row.status})")
            job_id = await session.scalar(
                text(
                    "SELECT id FROM procrastinate_jobs WHERE status = 'todo' "
                    "AND task_name = :task AND (args->>'run_id')::bigint = :run_id"
                ),
                {"task": _PREFIX + JobKind.SYNC, "run_id": run_id},
            )
            if job_id is not None:
                await app.job_manager.cancel_job_by_id_async(
                    job_id, connection=await _driver_connection(session)
                )
            await _cancel_queued_run(session, run_id, self._clock())
            await session.refresh(row)
        return SyncRun.from_row(row)

    async def retry(self, job_id: int) -> QueuedJob:
        """Run a failed job again now (a sync resumes its run)."""
        job = await self.get(job_id)
        if job.status is not JobStatus.FAILED:
            raise ConflictError(f"job {job_id} is {job.status.value}; only failed jobs are retried")
        app, _ = self._opened()
        try:
            await app.job_manager.retry_job_by_id_async(job_id, retry_at=self._clock())
        except queue_errors.ConnectorException as exc:
            raise ConflictError(f"job {job_id} cannot be retried: {exc}") from exc
        return await self.get(job_id)

    # -- workers -----------------------------------------------------------------------------

    async def run_worker(
        self,
        stop: asyncio.Event,
        *,
        concurrency: int = 1,
        queues: Iterable[str] | None = None,
        heartbeat_interval: float = 10.0,
        stalled_after: float = 30.0,
        graceful_timeout: float = 25.0,
        poll_interval: float = 5.0,
    ) -> None:
        """Run jobs until ``stop`` is set, then end gracefully.

        On ``stop`` a running sync ends after its current page and is queued again to resume;
        other jobs get ``graceful_timeout`` seconds to finish. Jobs of a worker whose
        heartbeat is older than ``stalled_after`` seconds (killed, its machine gone) are put
        back in the queue, and the sync engine's lease of their run is taken over at once.
        """
        app, _ = self._opened()
        self._stopping = stop
        name = f"{socket.gethostname()}:{os.getpid()}"
        options: WorkerOptions = {
            "name": name,
            "concurrency": concurrency,
            "install_signal_handlers": False,
            "update_heartbeat_interval": heartbeat_interval,
            "stalled_worker_timeout": stalled_after,
            "shutdown_graceful_timeout": graceful_timeout,
            "fetch_job_polling_interval": poll_interval,
        }
        if queues:
            options["queues"] = list(queues)
        worker = asyncio.create_task(app.run_worker_async(**options))
        rescuer = asyncio.create_task(self._requeue_stalled(stalled_after))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            rescuer.cancel()
            stopped.cancel()
            if not worker.done():
                worker.cancel()  # procrastinate's graceful stop: no new job, wait for these
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            with contextlib.suppress(asyncio.CancelledError):
                await rescuer

    async def _requeue_stalled(self, stalled_after: float) -> None:
        app, _ = self._opened()
        while True:
            await asyncio.sleep(max(stalled_after / 3, 0.2))
            try:
                stalled = await app.job_manager.get_stalled_jobs(
                    seconds_since_heartbeat=stalled_after
                )
                for job in stalled:
                    with contextlib.suppress(queue_errors.ConnectorException):
                        log.warning("job %s of a stopped worker is queued again", job.id)
                        await app.job_manager.retry_job(job)
            except Exception:  # the next round may work
                log.warning("looking for stalled jobs failed", exc_info=True)


def _heartbeat(workers: int, newest: datetime | None, age: Any) -> WorkerHeartbeat:
    return WorkerHeartbeat(
        int(workers or 0), newest, max(float(age), 0.0) if age is not None else None
    )


async def _driver_connection(session: AsyncSession) -> Any:
    """The psycopg connection under ``session``'s transaction (procrastinate writes there)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _cancel_queued_run(session: AsyncSession, run_id: int, now: datetime) -> None:
    await session.execute(
        SyncRunRow.__table__.update()  # type: ignore[attr-defined]
        .where(SyncRunRow.id == run_id, SyncRunRow.status == SyncStatus.QUEUED.value)
        .values(status=SyncStatus.CANCELLED.value, finished_at=now, error="cancelled in the queue")
    )


def _queued_job(
    job_id: int,
    task_name: str,
    args: dict[str, Any] | None,
    status: str,
    attempts: int,
    queue: str,
    scheduled_at: datetime | None,
    error: str | None,
) -> QueuedJob:
    kind = task_name.removeprefix(_PREFIX)
    arguments = dict(args or {})
    run_id = arguments.get("run_id")
    return QueuedJob(
        id=job_id,
        kind=kind,
        target=_target(kind, arguments),
        status=JobStatus(status),
        attempts=attempts,
        queue=queue,
        scheduled_at=scheduled_at,
        last_error=error,
        run_id=int(run_id) if run_id is not None else None,
        arguments=arguments,
    )
