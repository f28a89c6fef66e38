"""Schedules (jobs that run by themselves on cron) and the job queue (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from leadbridge import LeadBridgeError, Scope
from leadbridge.jobs import JobStatus, QueuedJob
from leadbridge.jobs import Schedule as CoreSchedule

from .._context import GatewayContext
from .._errors import BadUserInputError
from ._auth import RequireScope
from ._common import UserError, camel, user_error
from ._relay import (
    DEFAULT_PAGE,
    Connection,
    Node,
    NodeKind,
    check_first,
    connection,
    decode_cursor,
    decode_int_id,
    encode_cursor,
    encode_id,
    register_node,
)

Ctx = Info[GatewayContext, None]

_READ: list[FieldExtension] = [RequireScope(Scope.INTEGRATIONS_READ)]
_WRITE: list[FieldExtension] = [RequireScope(Scope.INTEGRATIONS_WRITE, writes=True)]
_JOBS_ORDER = "jobs"

JobStatusEnum = strawberry.enum(JobStatus, name="JobStatus", description="A queued job's status.")


@strawberry.type(description="A job that runs by itself whenever its cron expression says.")
class Schedule(Node):
    kind: str = strawberry.field(description="`sync`, `segments`, `prune` or a plugin's kind.")
    target: str | None = strawberry.field(
        description="sync: the integration; segments: an alias (none: all)."
    )
    cron: str
    timezone: str = strawberry.field(description="The IANA time zone the cron is read in.")
    enabled: bool
    last_fired_at: datetime | None
    next_due_at: datetime
    last_outcome: str | None = strawberry.field(description="What its last job did or why not.")
    created_at: datetime

    @classmethod
    def build(cls, s: CoreSchedule) -> Schedule:
        return cls(
            id=strawberry.ID(encode_id("Schedule", s.id)),
            kind=s.kind,
            target=s.target,
            cron=s.cron,
            timezone=s.timezone,
            enabled=s.enabled,
            last_fired_at=s.last_fired_at,
            next_due_at=s.next_due_at,
            last_outcome=s.last_outcome,
            created_at=s.created_at,
        )


@strawberry.type(description="A job in the queue (PostgreSQL).")
class Job(Node):
    kind: str
    target: str | None
    status: JobStatusEnum  # type: ignore[valid-type]
    attempts: int
    queue: str
    scheduled_at: datetime | None
    last_error: str | None
    run_id: strawberry.ID | None = strawberry.field(description="The sync run it runs.")
    arguments: JSON

    @classmethod
    def build(cls, job: QueuedJob) -> Job:
        return cls(
            id=strawberry.ID(encode_id("Job", job.id)),
            kind=job.kind,
            target=job.target,
            status=job.status,
            attempts=job.attempts,
            queue=job.queue,
            scheduled_at=job.scheduled_at,
            last_error=job.last_error,
            run_id=strawberry.ID(encode_id("SyncRun", job.run_id)) if job.run_id else None,
            arguments=job.arguments,  # type: ignore[arg-type]
        )


async def _load_schedules(ctx: GatewayContext, pks: Sequence[int]) -> list[Schedule | None]:
    found = {s.id: s for s in await ctx.services.schedule_service.list()}
    return [Schedule.build(found[pk]) if pk in found else None for pk in pks]


async def _load_jobs(ctx: GatewayContext, pks: Sequence[int]) -> list[Job | None]:
    queue = ctx.services.job_queue
    out: list[Job | None] = []
    for pk in pks:
        try:
            out.append(Job.build(await queue.get(pk)) if queue.available else None)
        except (ValueError, LeadBridgeError):
            out.append(None)
    return out


register_node(NodeKind("Schedule", Scope.INTEGRATIONS_READ, _load_schedules))
register_node(NodeKind("Job", Scope.INTEGRATIONS_READ, _load_jobs))


@strawberry.input(description="A new schedule.")
class ScheduleInput:
    kind: str = strawberry.field(description="`sync`, `segments`, `prune` or a plugin's kind.")
    cron: str = strawberry.field(description="Five fields, e.g. `*/15 * * * *`.")
    target: str | None = None
    timezone: str = "UTC"
    enabled: bool = True


@strawberry.input(description="What to change in a schedule; what is left out stays.")
class ScheduleUpdateInput:
    cron: str | None = None
    target: str | None = None
    timezone: str | None = None
    enabled: bool | None = None


@strawberry.type
class SchedulePayload:
    schedule: Schedule | None
    user_errors: list[UserError]


@strawberry.type
class DeleteSchedulePayload:
    deleted_schedule_id: strawberry.ID | None
    user_errors: list[UserError]


def _error(exc: LeadBridgeError | BadUserInputError, argument: str) -> UserError:
    field = getattr(exc, "field", None)
    return user_error(exc, [argument, camel(field)] if field else [argument])


@strawberry.type
class JobsQuery:
    @strawberry.field(extensions=_READ, description="Every schedule, oldest first.")
    async def schedules(self, info: Ctx) -> list[Schedule]:
        return [Schedule.build(s) for s in await info.context.services.schedule_service.list()]

    @strawberry.field(
        extensions=_READ,
        description="Queued jobs, newest first (PostgreSQL; empty on SQLite, which has no queue).",
    )
    async def jobs(
        self,
        info: Ctx,
        status: JobStatusEnum | None = None,  # type: ignore[valid-type]
        kind: str | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[Job]:
        check_first(first)
        queue = info.context.services.job_queue
        before = decode_cursor(after, _JOBS_ORDER)[1] if after is not None else None
        wanted = JobStatus(status.value) if status is not None else None
        rows = (
            await queue.jobs(status=wanted, kind=kind, limit=first + 1, before=before)
            if queue.available
            else []
        )
        page = rows[:first]

        async def count() -> int:
            return await queue.count(status=wanted, kind=kind) if queue.available else 0

        return connection(
            [Job.build(j) for j in page],
            [encode_cursor(_JOBS_ORDER, j.id, j.id) for j in page],
            has_next=len(rows) > first,
            after=after,
            count=count,
        )


@strawberry.type
class JobsMutation:
    @strawberry.mutation(extensions=_WRITE, description="Add a schedule (validated cron).")
    async def create_schedule(self, info: Ctx, input: ScheduleInput) -> SchedulePayload:
        service = info.context.services.schedule_service
        try:
            made = await service.add(
                input.kind, input.target, input.cron, timezone=input.timezone, enabled=input.enabled
            )
        except LeadBridgeError as exc:
            return SchedulePayload(schedule=None, user_errors=[_error(exc, "input")])
        return SchedulePayload(schedule=Schedule.build(made), user_errors=[])

    @strawberry.mutation(
        extensions=_WRITE,
        description=(
            "Change a schedule; a new cron, time zone or resumption recomputes its next run."
        ),
    )
    async def update_schedule(
        self, info: Ctx, id: strawberry.ID, input: ScheduleUpdateInput
    ) -> SchedulePayload:
        try:
            pk = decode_int_id(id, "Schedule")
            changed = await info.context.services.schedule_service.update(
                pk,
                cron=input.cron,
                target=input.target,
                timezone=input.timezone,
                enabled=input.enabled,
            )
        except BadUserInputError as exc:
            return SchedulePayload(schedule=None, user_errors=[user_error(exc, ["id"])])
        except LeadBridgeError as exc:
            field = "id" if getattr(exc, "field", None) is None else "input"
            return SchedulePayload(schedule=None, user_errors=[_error(exc, field)])
        return SchedulePayload(schedule=Schedule.build(changed), user_errors=[])

    @strawberry.mutation(extensions=_WRITE, description="Delete a schedule.")
    async def delete_schedule(self, info: Ctx, id: strawberry.ID) -> DeleteSchedulePayload:
        try:
            pk = decode_int_id(id, "Schedule")
            await info.context.services.schedule_service.remove(pk)
        except (BadUserInputError, LeadBridgeError) as exc:
            errors = [user_error(exc, ["id"])]
            return DeleteSchedulePayload(deleted_schedule_id=None, user_errors=errors)
        return DeleteSchedulePayload(deleted_schedule_id=id, user_errors=[])
