"""Points: a contact's history and group scores, point actions and manual adjustments.

Reads need `contacts:read`, writes `contacts:write`: points are part of the contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from leadbridge import LeadBridgeError, NotFoundError, Scope, ValidationError
from leadbridge.points import PointAction as CorePointAction

from .._context import GatewayContext
from .._errors import BadUserInputError
from ._auth import RequireScope
from ._common import UserError, camel, user_error
from ._relay import (
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
from .contacts import Contact

Ctx = Info[GatewayContext, None]

_HISTORY_ORDER = "point_history"


@strawberry.type(description="A contact's score in one points group.")
class GroupScore:
    group: str
    points: int


@strawberry.type(description="One change of a contact's points, newest first.")
class PointChange:
    delta: int
    reason: str
    group: str | None = strawberry.field(
        description="The group whose score changed; `null` for the contact's total."
    )
    action_id: strawberry.ID | None = strawberry.field(
        description="The point action that awarded it; `null` for a manual adjustment."
    )
    created_at: datetime


@strawberry.type(description="A configured point action: points awarded when its type fires.")
class PointAction(Node):
    name: str
    type: str = strawberry.field(description="The action type's key (`contact.created`, …).")
    delta: int
    settings: JSON = strawberry.field(description="The type's settings, validated.")
    group: str | None
    repeatable: bool
    published: bool
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def build(cls, action: CorePointAction) -> PointAction:
        return cls(
            id=strawberry.ID(encode_id("PointAction", action.id)),
            pk=action.id,
            name=action.name,
            type=action.type,
            delta=action.delta,
            settings=dict(action.settings),  # type: ignore[arg-type]
            group=action.group,
            repeatable=action.repeatable,
            published=action.published,
            created_at=action.created_at,
            updated_at=action.updated_at,
        )


async def group_scores_of(ctx: GatewayContext, contact_pk: int) -> list[GroupScore]:
    """``Contact.groupScores``, batched per request."""
    scores = await ctx.loaders.group_scores.load(contact_pk)
    return [GroupScore(group=s.group, points=s.points) for s in scores]


async def history_of(
    ctx: GatewayContext, contact_pk: int, first: int, after: str | None
) -> Connection[PointChange]:
    """``Contact.pointHistory``: a page of :meth:`PointsService.history`."""
    check_first(first)
    before = decode_cursor(after, _HISTORY_ORDER)[1] if after is not None else None
    history = await ctx.services.points_service.history(contact_pk, limit=first, before=before)
    changes = history.items

    async def count() -> int:
        async with ctx.reads.session() as session:
            return await ctx.services.points.change_count(session, contact_pk)

    return connection(
        [
            PointChange(
                delta=c.delta,
                reason=c.reason,
                group=c.group,
                action_id=(
                    strawberry.ID(encode_id("PointAction", c.action_id))
                    if c.action_id is not None
                    else None
                ),
                created_at=c.created_at,
            )
            for c in changes
        ],
        [encode_cursor(_HISTORY_ORDER, c.id, c.id) for c in changes],
        has_next=history.next_before is not None,
        after=after,
        count=count,
    )


async def _load_action_nodes(ctx: GatewayContext, pks: Sequence[int]) -> list[PointAction | None]:
    wanted = set(pks)
    actions = await ctx.services.points_service.list_actions() if wanted else []
    found = {a.id: PointAction.build(a) for a in actions if a.id in wanted}
    return [found.get(pk) for pk in pks]


register_node(NodeKind("PointAction", Scope.CONTACTS_READ, _load_action_nodes))

_READ: list[FieldExtension] = [RequireScope(Scope.CONTACTS_READ)]
_WRITE: list[FieldExtension] = [RequireScope(Scope.CONTACTS_WRITE, writes=True)]


@strawberry.type
class PointsQuery:
    @strawberry.field(extensions=_READ, description="Configured point actions, by ID.")
    async def point_actions(self, info: Ctx, type: str | None = None) -> list[PointAction]:
        actions = await info.context.services.points_service.list_actions(type=type)
        return [PointAction.build(a) for a in actions]


@strawberry.input
class CreatePointActionInput:
    name: str
    type: str = strawberry.field(description="An action type key (`contact.created`, …).")
    delta: int = strawberry.field(description="Points awarded (negative to take away).")
    settings: JSON | None = strawberry.field(
        default=None, description="The type's settings; errors name the setting at fault."
    )
    group: str | None = strawberry.field(default=None, description="A points group name.")
    repeatable: bool = False
    published: bool = True


@strawberry.input(description="Fields left out are kept; `group: null` leaves the group.")
class UpdatePointActionInput:
    id: strawberry.ID
    name: str | None = None
    delta: int | None = None
    settings: JSON | None = None
    group: str | None = strawberry.UNSET
    repeatable: bool | None = None
    published: bool | None = None


@strawberry.type
class PointActionPayload:
    point_action: PointAction | None
    user_errors: list[UserError]


@strawberry.type
class AdjustPointsPayload:
    contact: Contact | None
    points: int | None = strawberry.field(
        description="The new score: the group's when a group was given, else the total."
    )
    user_errors: list[UserError]


def _path(field: str | None, default: str, *, input: bool) -> list[str]:
    head, _, rest = (field or default).partition(".")
    return (["input"] if input else []) + [camel(head)] + ([rest] if rest else [])


def _field(exc: LeadBridgeError | BadUserInputError, default: str) -> str:
    field: str | None = getattr(exc, "field", None)
    if field is None and isinstance(exc, NotFoundError):
        # Core names no field for a missing group; its message does.
        field = "group" if str(exc).startswith("point group") else default
    return field or default


def _action_error(exc: LeadBridgeError | BadUserInputError, default: str) -> UserError:
    return user_error(exc, _path(_field(exc, default), default, input=True))


def _settings(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("settings must be an object", field="settings")
    return value


@strawberry.type
class PointsMutation:
    @strawberry.mutation(extensions=_WRITE, description="Configure a point action.")
    async def create_point_action(
        self, info: Ctx, input: CreatePointActionInput
    ) -> PointActionPayload:
        try:
            action = await info.context.services.points_service.create_action(
                input.name,
                input.type,
                input.delta,
                settings=_settings(input.settings),
                group=input.group,
                repeatable=input.repeatable,
                published=input.published,
            )
        except LeadBridgeError as exc:
            return PointActionPayload(point_action=None, user_errors=[_action_error(exc, "type")])
        return PointActionPayload(point_action=PointAction.build(action), user_errors=[])

    @strawberry.mutation(extensions=_WRITE, description="Change a point action.")
    async def update_point_action(
        self, info: Ctx, input: UpdatePointActionInput
    ) -> PointActionPayload:
        changes: dict[str, Any] = {}
        if input.group is not strawberry.UNSET:
            changes["group"] = input.group
        try:
            pk = decode_int_id(input.id, "PointAction", "input.id")
            action = await info.context.services.points_service.update_action(
                pk,
                name=input.name,
                delta=input.delta,
                settings=_settings(input.settings),
                repeatable=input.repeatable,
                published=input.published,
                **changes,
            )
        except (LeadBridgeError, BadUserInputError) as exc:
            return PointActionPayload(point_action=None, user_errors=[_action_error(exc, "id")])
        return PointActionPayload(point_action=PointAction.build(action), user_errors=[])

    @strawberry.mutation(
        extensions=_WRITE,
        description="Add `delta` (may be negative) to a contact's total or to a group score.",
    )
    async def adjust_points(
        self,
        info: Ctx,
        contact_id: strawberry.ID,
        delta: int,
        reason: str,
        group: str | None = None,
    ) -> AdjustPointsPayload:
        try:
            pk = decode_int_id(contact_id, "Contact", "contactId")
            points = await info.context.services.points_service.adjust(
                pk, delta, reason, group=group
            )
        except (LeadBridgeError, BadUserInputError) as exc:
            error = user_error(exc, _path(_field(exc, "contact_id"), "contact_id", input=False))
            return AdjustPointsPayload(contact=None, points=None, user_errors=[error])
        contact = await info.context.services.contact_service.get(pk)
        return AdjustPointsPayload(
            contact=Contact.build(contact, contact.tags), points=points, user_errors=[]
        )
