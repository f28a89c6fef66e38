"""The sync engine: runs, the lease, pull then push, page by page."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._choice import parse_choice
from ..contacts import ChangeLogService, ContactService, CustomFieldService, FieldSpec
from ..db import utcnow
from ..events import EventBus
from ..http import RetriableAPIError
from ..observability import RunScope, record_sync_run, traced
from ._audience import AudienceReader, fields_object
from ._counters import SyncCounters
from ._cursor import PullCursor
from ._dry_run import DryRun
from ._errors import SyncError, SyncLockedError, SyncRunError
from ._exchange import BaseDataExchange, Order, ReportPage, ReportRequest
from ._holder import LeaseHolder
from ._judge import SyncJudge
from ._manual import MappingManual, ObjectManual
from ._models import SyncCursorRow, SyncErrorRow
from ._normalizer import ValueNormalizer
from ._options import SyncDirection, SyncOptions, SyncTrigger
from ._outcome import PageOutcome
from ._pull import ObjectPuller
from ._pull_store import PullStore
from ._push import BATCH, Pusher, consumer_name
from ._push_store import PlannedOrder, PushStore
from ._read_ahead import read_ahead
from ._results import SyncProgress, SyncResult, SyncStatus
from ._run_mode import RunMode
from ._run_record import RunRecorder
from ._run_state import ProgressCallback, RunCancelled, RunInterrupted, RunState

log = logging.getLogger("leadbridge.sync")

_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s#]*")


class StartedSync:
    """A run that has begun (:meth:`SyncEngine.begin`): it is recorded (``run_id``; ``None``
    for a dry run) and holds the lease. :meth:`execute` runs it to its end, once."""

    def __init__(
        self,
        run_id: int | None,
        integration: str,
        execute: Callable[[], Awaitable[SyncResult]],
    ) -> None:
        self.run_id = run_id
        self.integration = integration
        self._execute: Callable[[], Awaitable[SyncResult]] | None = execute

    def __repr__(self) -> str:
        return f"StartedSync(integration={self.integration!r}, run_id={self.run_id!r})"

    async def execute(self) -> SyncResult:
        """Pull, then push; returns the result when the run ended (see :meth:`SyncEngine.run`)."""
        execute, self._execute = self._execute, None
        if execute is None:
            raise SyncRunError(f"sync run {self.run_id} of {self.integration} was executed already")
        return await execute()


def _retriable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001")  # deadlock detected, serialization failure


def _is_retriable(exc: BaseException) -> bool:
    """A failure that may pass: running the same sync later may work."""
    return isinstance(
        exc, RetriableAPIError | SyncLockedError | OSError | TimeoutError | OperationalError
    )


def _describe(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, SyncError) else f"{type(exc).__name__}: {exc}"
    # Query strings may carry API keys (auth in a query parameter): never store them.
    return _URL_QUERY.sub(r"\1?…", text).strip() or type(exc).__name__


#: Set on the log record of a failed run (``record.sync_run_failed``).
RUN_FAILED = "sync_run_failed"


class SyncEngine:
    """Runs one integration's sync: pull, then push, with a run row and a lease.

    Every pulled page is applied with its cursor, mappings, change-log rows, run counters and
    :class:`BatchSynced` handlers in one transaction; every pushed batch stores its results
    with the push cursor in one transaction. A crash loses nothing and the next run resumes
    from the last committed page. Only one run per integration holds the lease at a time,
    across processes; a lease whose heartbeat is older than ``lease_timeout`` seconds (or whose
    holder process on this machine and in this pid namespace is gone) is taken over. Holders
    are told apart by a random id per engine (:class:`LeaseHolder`), not by ``host:pid``.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        contact_service: ContactService,
        change_log: ChangeLogService,
        event_bus: EventBus,
        *,
        custom_fields: CustomFieldService,
        clock: Callable[[], datetime] = utcnow,
        heartbeat_interval: float = 10.0,
        lease_timeout: float = 60.0,
        page_attempts: int = 3,
        push_batch_size: int = BATCH,
    ) -> None:
        self._sessions = session_factory
        self._contacts = contact_service
        self._fields = custom_fields
        self._change_log = change_log
        self._bus = event_bus
        self._clock = clock
        self._attempts = max(1, page_attempts)
        self._push_batch = push_batch_size
        self._recorder = RunRecorder(
            session_factory,
            holder=LeaseHolder.here(),
            clock=clock,
            heartbeat_interval=heartbeat_interval,
            lease_timeout=lease_timeout,
        )
        self._analyze = True

    # -- public ----------------------------------------------------------------------------

    async def cancel(self, run_id: int) -> None:
        """Ask a running run (in any process) to stop after its current page."""
        await self._recorder.cancel(run_id)

    async def run(
        self,
        exchange: BaseDataExchange,
        manual: MappingManual,
        options: SyncOptions | None = None,
        *,
        trigger: SyncTrigger | str = SyncTrigger.API,
        progress: ProgressCallback | None = None,
        run_id: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> SyncResult:
        """Run a sync of ``manual.integration`` through ``exchange``; returns when it ended.

        ``run_id`` starts a run recorded beforehand (``queued``, by a job queue) or resumes one
        whose process died or stopped: its lease is taken over at once and its counters go on.
        When ``stop`` is set the run ends after the page in hand with status ``queued``, to be
        resumed from its last committed page.

        Raises :class:`SyncLockedError` when another run holds the lease (nothing started),
        :class:`~leadbridge.ConfigurationError` for a manual that cannot work. Otherwise the
        outcome is in the result's ``status``: ``succeeded``, ``partial`` (some objects
        failed; see ``failures``), ``failed`` (``error`` says why; cursors stay at the last
        applied page) or ``cancelled``. The same as :meth:`begin` then
        :meth:`StartedSync.execute`.
        """
        started = await self.begin(
            exchange, manual, options, trigger=trigger, progress=progress, run_id=run_id, stop=stop
        )
        return await started.execute()

    async def begin(
        self,
        exchange: BaseDataExchange,
        manual: MappingManual,
        options: SyncOptions | None = None,
        *,
        trigger: SyncTrigger | str = SyncTrigger.API,
        progress: ProgressCallback | None = None,
        run_id: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> StartedSync:
        """Start a run: check the manual, record the run and take the lease; the returned
        :class:`StartedSync` knows its ``run_id`` and runs it with ``execute()``.

        Raises what :meth:`run` raises before a run starts. Call ``execute()`` soon: until it
        runs, nothing beats the lease's heartbeat and another process takes the run over once
        the lease times out.
        """
        options = options or SyncOptions()
        parse_choice(SyncTrigger, trigger, field="trigger")
        trigger = SyncTrigger(trigger)
        specs = await self._fields.all_fields()
        manual.check(specs)
        started = self._clock()
        # The one place a dry run is decided; everything downstream asks the mode.
        mode: RunMode = DryRun() if options.dry_run else RunMode()
        resumed = SyncCounters()
        if mode.records:
            run_id, resumed = await self._recorder.start(
                manual.integration, trigger, options, run_id
            )
        else:
            run_id = None
        run = RunState(
            manual.integration, options, mode, run_id, progress, counters=resumed, stop=stop
        )

        async def execute() -> SyncResult:
            return await self._execute(run, exchange, manual, specs, started)

        return StartedSync(run_id, manual.integration, execute)

    async def _execute(
        self,
        run: RunState,
        exchange: BaseDataExchange,
        manual: MappingManual,
        specs: Mapping[str, FieldSpec],
        started: datetime,
    ) -> SyncResult:
        options, integration, run_id = run.options, run.integration, run.run_id
        scope = RunScope(integration, run_id)  # log context and trace span
        status = SyncStatus.SUCCEEDED
        error: str | None = None
        retriable = False
        heartbeat = (
            asyncio.create_task(self._recorder.heartbeat(run)) if run_id is not None else None
        )
        try:
            if not options.push_only:
                normalizer = ValueNormalizer(specs, null_values=exchange.null_values)
                judge = SyncJudge(manual.conflict_winner)
                for obj in manual.objects:
                    await self._pull_object(run, exchange, manual, obj, specs, normalizer, judge)
            if not options.pull_only:
                await self._push(run, exchange, manual)
                if options.ids is None:
                    await self._push_audiences(run, exchange, manual)
            status = SyncStatus.PARTIAL if run.counters.failed else SyncStatus.SUCCEEDED
        except RunCancelled:
            status = SyncStatus.CANCELLED
        except RunInterrupted:
            status, error = SyncStatus.QUEUED, "interrupted: its worker stopped; it resumes"
        except (asyncio.CancelledError, KeyboardInterrupt):
            status, error = SyncStatus.CANCELLED, "interrupted"
            raise
        except Exception as exc:
            status, error = SyncStatus.FAILED, _describe(exc)
            retriable = _is_retriable(exc)
            log.warning(
                "sync %s (run %s) failed: %s",
                integration,
                run_id,
                error,
                extra={RUN_FAILED: True},  # a caller reporting the result itself drops it
            )
            log.debug("sync failure", exc_info=True)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            finished = self._clock()
            if run_id is not None:
                await self._recorder.finish(run, status, error, finished)
            scope.close(status.value)
        result = SyncResult(
            integration=integration,
            status=status,
            counters=run.counters,
            run_id=run_id,
            dry_run=options.dry_run,
            error=error,
            failures=run.failures,
            started_at=started,
            finished_at=finished,
            retriable=retriable,
        )
        record_sync_run(result)
        return result

    def _report_progress(
        self, run: RunState, phase: SyncDirection, obj: str, done: int, total: int | None
    ) -> None:
        if run.progress is None:
            return
        try:
            run.progress(
                SyncProgress(
                    run.run_id, run.integration, phase, obj, done, total, run.counters.copy()
                )
            )
        except Exception:  # a broken progress display must not break the sync
            log.warning("sync progress callback failed", exc_info=True)

    # -- pull ------------------------------------------------------------------------------

    async def _pull_object(
        self,
        run: RunState,
        exchange: BaseDataExchange,
        manual: MappingManual,
        obj: ObjectManual,
        specs: Mapping[str, FieldSpec],
        normalizer: ValueNormalizer,
        judge: SyncJudge,
    ) -> None:
        options = run.options
        async with self._sessions() as session:
            stored = await session.get(SyncCursorRow, (manual.integration, obj.object))
            unresolved = await session.scalar(
                select(SyncErrorRow.id)
                .where(
                    SyncErrorRow.integration == manual.integration,
                    SyncErrorRow.object == obj.object,
                    SyncErrorRow.direction == SyncDirection.PULL,
                    SyncErrorRow.resolved_at.is_(None),
                )
                .limit(1)
            )
        cursor = None if options.full or options.since or stored is None else stored.value
        since = options.since
        if since is None and not options.full and stored is None:
            since = manual.first_sync_from
        request = ReportRequest(
            object=obj.object,
            cursor=cursor,
            since=since,
            fields=tuple(f.integration_field for f in obj.fields),
            ids=options.ids,
        )
        store = run.mode.pull_store(
            integration=manual.integration,
            object_name=obj.object,
            contacts=self._contacts,
            event_bus=self._bus,
            run_id=run.run_id,
            unresolved=unresolved is not None,
        )
        puller = ObjectPuller(
            integration=manual.integration,
            manual=obj,
            specs=specs,
            normalizer=normalizer,
            judge=judge,
            store=store,
            run_id=run.run_id,
            ids=options.ids,
        )
        pull_cursor = PullCursor(
            manual.integration,
            obj.object,
            run.run_id,
            stored=stored is not None,
            moves=options.ids is None and run.mode.records,
        )
        done = 0
        run.check_stop()
        async with (
            traced("leadbridge.sync.pull", object=obj.object),
            contextlib.asynccontextmanager(exchange.around_pull)(request),
            read_ahead(exchange.report(request)) as pages,
        ):
            async for page in pages:
                if not isinstance(page, ReportPage):
                    raise SyncRunError(
                        f"{type(exchange).__name__}.report yielded {type(page).__name__}, "
                        "not a ReportPage"
                    )
                run.check_stop()
                with traced("leadbridge.sync.page", object=obj.object, size=len(page.objects)):
                    outcome = await self._apply_page(run, puller, store, page, pull_cursor)
                run.tally(outcome)
                await self._refresh_statistics(run, outcome)
                done += len(page.objects)
                self._report_progress(run, SyncDirection.PULL, obj.object, done, page.total)

    async def _apply_page(
        self,
        run: RunState,
        puller: ObjectPuller,
        store: PullStore,
        page: ReportPage,
        cursor: PullCursor,
    ) -> PageOutcome:
        """Read, resolve and write ``page`` with its cursor and the run's counters."""
        for attempt in range(1, self._attempts + 1):
            now = self._clock()
            try:
                async with run.mode.transaction(self._sessions) as session:
                    pulled = await puller.read(session, page)
                    await store.write(session, pulled, now)
                    outcome = pulled.outcome
                    outcome.counters.api_calls += page.api_calls
                    await cursor.save(session, page.cursor, now)
                    await self._recorder.save(session, run, outcome.counters, now)
                cursor.committed()
                return outcome
            except DBAPIError as exc:
                # A concurrent writer took an email this page creates, or PostgreSQL chose
                # this page's transaction as a deadlock victim: read again and retry.
                if attempt == self._attempts or not _retriable(exc):
                    raise
                log.info(
                    "sync %s: page conflicted with a concurrent write; retrying", run.integration
                )
        raise AssertionError("unreachable")

    async def _refresh_statistics(self, run: RunState, outcome: PageOutcome) -> None:
        """Let PostgreSQL's planner see the tables a large pull is filling.

        Freshly filled tables have no statistics until autovacuum comes by, and the planner
        then reads a page's ``integration_id IN (…)`` with a scan of every mapping of the
        integration: the pull slows down as it grows. ``ANALYZE`` each time this run has
        doubled what it created keeps lookups on the index for log2(n) cheap statements.
        """
        if not run.mode.records or not outcome.counters.created or not self._analyze:
            return
        run.created_since_analyze += outcome.counters.created
        if run.created_since_analyze < max(1000, run.created_at_analyze):
            return
        run.created_at_analyze += run.created_since_analyze
        run.created_since_analyze = 0
        try:
            async with self._sessions.begin() as session:
                if (await session.connection()).dialect.name != "postgresql":
                    self._analyze = False
                    return
                await session.execute(
                    text("ANALYZE contacts, contact_changes, sync_object_mappings")
                )
        except DBAPIError:  # not the tables' owner: the planner will catch up on its own
            log.debug("sync: ANALYZE failed; leaving statistics to autovacuum", exc_info=True)
            self._analyze = False

    # -- push ------------------------------------------------------------------------------

    async def _push(self, run: RunState, exchange: BaseDataExchange, manual: MappingManual) -> None:
        options = run.options
        pusher = Pusher(
            integration=manual.integration,
            objects=manual.objects,
            exchange=exchange,
            session_factory=self._sessions,
            full=options.full,
            ids=options.ids,
            create_filter=options.create_filter,
            batch_size=self._push_batch,
        )
        if not pusher.active:
            return
        store = await self._push_store(run, pusher.objects)
        consumer = consumer_name(manual.integration)
        position = await self._change_log.position(consumer)
        end = await self._change_log.last_id()
        done = 0
        async for batch in pusher.batches(position, end, retry=store.unresolved):
            run.check_stop()
            async with self._sessions() as session:
                planned = await pusher.plan(session, batch)
            results = [await run.mode.send(exchange, plan.order) for plan in planned]
            now = self._clock()
            delta = PageOutcome()
            async with run.mode.transaction(self._sessions) as session:
                for order, result in zip(planned, results, strict=True):
                    delta.add(await store.store(session, order, result, now))
                if batch.position is not None and options.ids is None:
                    await self._change_log.advance(consumer, batch.position, session=session)
                await self._recorder.save(session, run, delta.counters, now)
            run.tally(delta)
            done += sum(len(plan.order) for plan in planned)
            self._report_progress(run, SyncDirection.PUSH, "contacts", done, None)

    async def _push_store(self, run: RunState, objects: list[str]) -> PushStore:
        store = run.mode.push_store(integration=run.integration, run_id=run.run_id)
        async with self._sessions() as session:
            await store.load_unresolved(session, objects)
        return store

    async def _push_audiences(
        self, run: RunState, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        audiences = await exchange.audiences()
        if not audiences:
            return
        reader = AudienceReader(integration=manual.integration, session_factory=self._sessions)
        for audience in audiences:
            run.check_stop()
            obj = fields_object(manual, audience)
            segment_id = await reader.segment_id(audience)
            if segment_id is None:
                delta = PageOutcome()
                now = self._clock()
                async with run.mode.transaction(self._sessions) as session:
                    failure = await reader.record_missing_segment(
                        session, audience, run.run_id, now
                    )
                    delta.counters.failed += 1
                    delta.failures.append(failure)
                    await self._recorder.save(session, run, delta.counters, now)
                run.tally(delta)
                continue
            store = await self._push_store(run, [audience.object])
            done = 0
            async for items in reader.batches(audience, segment_id, obj):
                run.check_stop()
                planned = PlannedOrder(Order(audience.object, creates=items))
                result = await run.mode.add_to_audience(exchange, audience, items)
                now = self._clock()
                async with run.mode.transaction(self._sessions) as session:
                    outcome = await store.store(session, planned, result, now)
                    await self._recorder.save(session, run, outcome.counters, now)
                run.tally(outcome)
                done += len(items)
                self._report_progress(run, SyncDirection.PUSH, audience.object, done, None)
