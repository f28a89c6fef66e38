"""Sync runs: reading them, starting and cancelling syncs, following a run's progress.

``startSync`` returns the run as soon as its row exists; the sync goes on in a task the app
holds (cancelled cleanly at shutdown). ``syncRunProgress`` polls the run's row, so it follows
runs started by any process (the CLI, a scheduler, another worker).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from leadbridge import LeadBridgeError, NotFoundError, Scope
from leadbridge.sync import SyncLockedError, SyncOptions, SyncStatus

from .._context import GatewayContext
from .._errors import BadUserInputError
from ._auth import RequireScope
from ._common import UserError, UserErrorCode, camel, user_error
from ._relay import (
    DEFAULT_PAGE,
    Connection,
    NodeKind,
    check_first,
    connection,
    decode_cursor,
    decode_int_id,
    encode_cursor,
    register_node,
)
from .integrations import SyncRun, SyncRunStatus

Ctx = Info[GatewayContext, None]

_RUNS_ORDER = "sync_runs"
#: How often ``syncRunProgress`` reads the run's row.
PROGRESS_INTERVAL = 0.2


async def _runs_by_id(ctx: GatewayContext, pks: Sequence[int]) -> dict[int, SyncRun]:
    async with ctx.reads.session() as session:
        found = await ctx.services.sync_runs.by_ids(session, pks)
    return {pk: SyncRun.build(run) for pk, run in found.items()}


async def _load_run_nodes(ctx: GatewayContext, pks: Sequence[int]) -> list[SyncRun | None]:
    found = await _runs_by_id(ctx, pks)
    return [found.get(i) for i in pks]


register_node(NodeKind("SyncRun", Scope.INTEGRATIONS_READ, _load_run_nodes))

_READ: list[FieldExtension] = [RequireScope(Scope.INTEGRATIONS_READ)]
_RUN: list[FieldExtension] = [RequireScope(Scope.SYNC_RUN, writes=True)]


@strawberry.type
class SyncQuery:
    @strawberry.field(extensions=_READ, description="Sync runs, newest first.")
    async def sync_runs(
        self,
        info: Ctx,
        integration: str | None = None,
        status: SyncRunStatus | None = None,  # type: ignore[valid-type]
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[SyncRun]:
        check_first(first)
        start = decode_cursor(after, _RUNS_ORDER)[1] if after is not None else None
        wanted = SyncStatus(status) if status is not None else None
        runs = info.context.services.sync_runs
        async with info.context.reads.session() as session:
            page, has_next = await runs.page(
                session, integration=integration, status=wanted, limit=first, before=start
            )

        async def count() -> int:
            async with info.context.reads.session() as session:
                return await runs.count(session, integration=integration, status=wanted)

        return connection(
            [SyncRun.build(r) for r in page],
            [encode_cursor(_RUNS_ORDER, r.id, r.id) for r in page],
            has_next=has_next,
            after=after,
            count=count,
        )

    @strawberry.field(extensions=_READ, description="One sync run.")
    async def sync_run(self, info: Ctx, id: strawberry.ID) -> SyncRun | None:
        pk = decode_int_id(id, "SyncRun")
        return (await _runs_by_id(info.context, [pk])).get(pk)


@strawberry.input(description="How to run a sync; every option is off by default.")
class SyncOptionsInput:
    full: bool = strawberry.field(
        default=False, description="Ignore cursors: pull everything, push every contact."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Pull objects changed from this date (ignores the cursor)."
    )
    pull_only: bool = False
    push_only: bool = False
    ids: list[str] | None = strawberry.field(
        default=None, description="Only these integration ids (a targeted repair)."
    )


@strawberry.type
class SyncRunPayload:
    run: SyncRun | None
    user_errors: list[UserError]


_OPTION_FIELDS = frozenset(f.name for f in dataclasses.fields(SyncOptions))


def _options(value: SyncOptionsInput | None) -> SyncOptions:
    if value is None:
        return SyncOptions()
    return SyncOptions(
        full=value.full,
        since=value.since,
        pull_only=value.pull_only,
        push_only=value.push_only,
        ids=frozenset(value.ids) if value.ids is not None else None,
    )


def _start_error(exc: LeadBridgeError) -> UserError:
    if isinstance(exc, SyncLockedError):
        return UserError(
            field=["integration"],
            message=str(exc),
            code=UserErrorCode.CONFLICT,
        )
    field = getattr(exc, "field", None)
    # The path names the argument the caller sent: an option, or else the integration.
    if field is not None and field in _OPTION_FIELDS:
        return user_error(exc, ["options", camel(field)])
    return user_error(exc, ["integration"])


@strawberry.type
class SyncMutation:
    @strawberry.mutation(
        extensions=_RUN,
        description=(
            "Start a sync of an integration; returns the run at once. On PostgreSQL the run is "
            "`QUEUED` for a worker (a sync of the integration already waiting absorbs it); on "
            "SQLite it goes on in the background. Follow it with `syncRunProgress` or `syncRun`."
        ),
    )
    async def start_sync(
        self, info: Ctx, integration: str, options: SyncOptionsInput | None = None
    ) -> SyncRunPayload:
        try:
            run = await info.context.services.sync_runner.start(integration, _options(options))
        except LeadBridgeError as exc:
            return SyncRunPayload(run=None, user_errors=[_start_error(exc)])
        return SyncRunPayload(run=SyncRun.build(run), user_errors=[])

    @strawberry.mutation(
        extensions=_RUN,
        description=(
            "Cancel a queued run (its job is cancelled: the run ends `CANCELLED`), or ask a "
            "running run (in any process) to stop after its current page."
        ),
    )
    async def cancel_sync(self, info: Ctx, id: strawberry.ID) -> SyncRunPayload:
        try:
            pk = decode_int_id(id, "SyncRun")
            run = await info.context.services.sync_runner.cancel(pk)
        except (BadUserInputError, LeadBridgeError) as exc:
            return SyncRunPayload(run=None, user_errors=[user_error(exc, ["id"])])
        return SyncRunPayload(run=SyncRun.build(run), user_errors=[])


@strawberry.type
class SyncSubscription:
    @strawberry.subscription(
        description=(
            "The run's status and counters: now, then at each change, until the run ends "
            "(the last message carries the final status)."
        ),
    )
    async def sync_run_progress(
        self, info: Ctx, id: strawberry.ID
    ) -> AsyncGenerator[SyncRun, None]:
        # Checked here: field extensions do not wrap subscription generators.
        await info.context.require(Scope.INTEGRATIONS_READ, info.field_name)
        pk = decode_int_id(id, "SyncRun")
        service = info.context.services.sync_run_service
        last: tuple[object, ...] | None = None
        while True:
            try:
                run = await service.get(pk)
            except NotFoundError as exc:
                raise BadUserInputError(f"`id`: sync run {pk} does not exist") from exc
            state = (run.status, run.cancel_requested, tuple(run.counters.to_dict().values()))
            if state != last:
                last = state
                yield SyncRun.build(run)
            if run.status not in (SyncStatus.QUEUED, SyncStatus.RUNNING):
                return
            await asyncio.sleep(PROGRESS_INTERVAL)
