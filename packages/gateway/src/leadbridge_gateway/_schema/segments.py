"""Segments: queries, the Segment node, membership and its mutations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from leadbridge import LeadBridgeError, NotFoundError, Scope, ValidationError
from leadbridge.contacts import ContactKeyset, ContactQuery
from leadbridge.segments import Segment as CoreSegment

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
    node_fields,
    register_node,
)
from .contacts import Contact, build_contacts

Ctx = Info[GatewayContext, None]

_MEMBERS_ORDER = "members"
_SEGMENTS_ORDER = "segments"


@strawberry.type(description="A named set of contacts: those its filters match, rebuilt on demand.")
class Segment(Node):
    name: str
    alias: str
    description: str | None
    is_published: bool
    filters: JSON = strawberry.field(
        description="The normalized filters: `[{glue, field, operator, value}, …]`."
    )
    member_count: int = strawberry.field(
        description="Members at the last rebuild or manual change."
    )
    last_built_at: datetime | None = strawberry.field(description="When it was last rebuilt.")
    build_seconds: float | None = strawberry.field(
        description="How long the last rebuild took, in seconds."
    )
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def build(cls, segment: CoreSegment) -> Segment:
        """From a core :class:`leadbridge.segments.Segment`."""
        return cls(
            id=strawberry.ID(encode_id("Segment", segment.id)),
            pk=segment.id,
            name=segment.name,
            alias=segment.alias,
            description=segment.description,
            is_published=segment.is_published,
            filters=list(segment.filters),  # type: ignore[arg-type]
            member_count=segment.member_count,
            last_built_at=segment.last_built_at,
            build_seconds=segment.build_seconds,
            created_at=segment.created_at,
            updated_at=segment.updated_at,
        )

    @strawberry.field(description="The stored members, by contact ID (needs `contacts:read`).")
    async def members(
        self, info: Ctx, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> Connection[Contact]:
        await info.context.require(Scope.CONTACTS_READ, "Segment.members")
        check_first(first)
        # Ordered by id: the cursor's id is its sort value too.
        start = decode_cursor(after, _MEMBERS_ORDER)[1] if after is not None else None
        keyset = ContactKeyset(start, start) if start is not None else None
        query = ContactQuery(segment=self.alias)
        contacts = info.context.services.contacts
        async with info.context.reads.session() as session:
            page, has_next = await contacts.page(session, query, limit=first, after=keyset)
        nodes = await build_contacts(info.context, page, tags="tags" in node_fields(info))

        async def count() -> int:
            async with info.context.reads.session() as session:
                return await contacts.count(session, query)

        return connection(
            [n for n in nodes if n is not None],
            [encode_cursor(_MEMBERS_ORDER, c.id, c.id) for c in page],
            has_next=has_next,
            after=after,
            count=count,
        )


async def segments_of(ctx: GatewayContext, contact_pk: int) -> list[Segment]:
    """The segments a contact is a member of, batched per request (``Contact.segments``)."""
    await ctx.require(Scope.SEGMENTS_READ, "Contact.segments")
    return [Segment.build(r) for r in await ctx.loaders.segments_of.load(contact_pk)]


async def _load_segment_nodes(ctx: GatewayContext, pks: Sequence[int]) -> list[Segment | None]:
    found = await ctx.loaders.segment.load_many(pks)
    return [Segment.build(s) if s is not None else None for s in found]


register_node(NodeKind("Segment", Scope.SEGMENTS_READ, _load_segment_nodes))

_READ: list[FieldExtension] = [RequireScope(Scope.SEGMENTS_READ)]
_WRITE: list[FieldExtension] = [RequireScope(Scope.SEGMENTS_WRITE, writes=True)]


def _filters(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
        raise ValidationError("filters must be a list of objects", field="filters")
    return value


@strawberry.type
class SegmentsQuery:
    @strawberry.field(extensions=_READ, description="Segments by ID, a page at a time.")
    async def segments(
        self, info: Ctx, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> Connection[Segment]:
        check_first(first)
        start = decode_cursor(after, _SEGMENTS_ORDER)[1] if after is not None else None
        segments = info.context.services.segments
        async with info.context.reads.session() as session:
            page, has_next = await segments.page(session, limit=first, after=start)

        async def count() -> int:
            async with info.context.reads.session() as session:
                return await segments.count(session)

        return connection(
            [Segment.build(s) for s in page],
            [encode_cursor(_SEGMENTS_ORDER, s.id, s.id) for s in page],
            has_next=has_next,
            after=after,
            count=count,
        )

    @strawberry.field(extensions=_READ, description="One segment, by `id` or by `alias`.")
    async def segment(
        self, info: Ctx, id: strawberry.ID | None = None, alias: str | None = None
    ) -> Segment | None:
        if (id is None) == (alias is None):
            raise BadUserInputError("give exactly one of `id` and `alias`")
        if id is not None:
            found = await info.context.loaders.segment.load(decode_int_id(id, "Segment"))
            return Segment.build(found) if found is not None else None
        assert alias is not None
        try:
            return Segment.build(await info.context.services.segment_service.get_by_alias(alias))
        except NotFoundError:
            return None

    @strawberry.field(
        extensions=_READ,
        description="How many contacts `filters` match now, without saving a segment.",
    )
    async def segment_preview(self, info: Ctx, filters: JSON) -> int:
        try:
            return await info.context.services.segment_service.preview_count(_filters(filters))
        except ValidationError as exc:
            raise BadUserInputError(f"`filters`: {exc.message}") from exc


# -- mutations ----------------------------------------------------------------------------


@strawberry.input
class CreateSegmentInput:
    name: str
    alias: str | None = strawberry.field(default=None, description="Default: a slug of `name`.")
    description: str | None = None
    filters: JSON | None = strawberry.field(default=None, description="Default: no filter.")
    is_published: bool = True


@strawberry.input(description="Fields left out are kept.")
class UpdateSegmentInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    alias: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    filters: JSON | None = strawberry.UNSET
    is_published: bool | None = strawberry.UNSET


@strawberry.input
class SegmentIdInput:
    id: strawberry.ID


@strawberry.input
class SegmentContactsInput:
    id: strawberry.ID = strawberry.field(description="The segment.")
    contact_ids: list[strawberry.ID]


@strawberry.type
class SegmentPayload:
    segment: Segment | None
    user_errors: list[UserError]


@strawberry.type
class DeleteSegmentPayload:
    deleted_segment_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class RebuildSegmentPayload:
    segment: Segment | None
    added: int | None
    removed: int | None
    user_errors: list[UserError]


@strawberry.type
class SegmentContactsPayload:
    segment: Segment | None
    changed: int | None = strawberry.field(description="Contacts whose membership changed.")
    user_errors: list[UserError]


_FILTER_AT = re.compile(r"^filters\[(\d+)\]")


def _error(exc: LeadBridgeError | BadUserInputError, default: str = "id") -> UserError:
    field = getattr(exc, "field", None) or default
    match = _FILTER_AT.match(field)
    if match:
        return user_error(exc, ["input", "filters", match.group(1)])
    return user_error(exc, ["input", camel(field)])


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.type
class SegmentsMutation:
    @strawberry.mutation(extensions=_WRITE, description="Create a segment (build it next).")
    async def create_segment(self, info: Ctx, input: CreateSegmentInput) -> SegmentPayload:
        try:
            created = await info.context.services.segment_service.create(
                input.name,
                alias=input.alias,
                filters=_filters(input.filters if input.filters is not None else []),
                description=input.description,
                is_published=input.is_published,
            )
        except LeadBridgeError as exc:
            return SegmentPayload(segment=None, user_errors=[_error(exc, "name")])
        return SegmentPayload(segment=Segment.build(created), user_errors=[])

    @strawberry.mutation(extensions=_WRITE, description="Change a segment's definition.")
    async def update_segment(self, info: Ctx, input: UpdateSegmentInput) -> SegmentPayload:
        changes: dict[str, Any] = {}
        if input.description is not strawberry.UNSET:
            changes["description"] = input.description
        try:
            pk = decode_int_id(input.id, "Segment")
            filters = _given(input.filters)
            updated = await info.context.services.segment_service.update(
                pk,
                name=_given(input.name),
                alias=_given(input.alias),
                filters=_filters(filters) if filters is not None else None,
                is_published=_given(input.is_published),
                **changes,
            )
        except (LeadBridgeError, BadUserInputError) as exc:
            return SegmentPayload(segment=None, user_errors=[_error(exc)])
        return SegmentPayload(segment=Segment.build(updated), user_errors=[])

    @strawberry.mutation(extensions=_WRITE, description="Delete a segment and its memberships.")
    async def delete_segment(self, info: Ctx, input: SegmentIdInput) -> DeleteSegmentPayload:
        try:
            await info.context.services.segment_service.delete(decode_int_id(input.id, "Segment"))
        except (LeadBridgeError, BadUserInputError) as exc:
            return DeleteSegmentPayload(deleted_segment_id=None, user_errors=[_error(exc)])
        return DeleteSegmentPayload(deleted_segment_id=input.id, user_errors=[])

    @strawberry.mutation(
        extensions=_WRITE, description="Bring the members in line with the filters."
    )
    async def rebuild_segment(self, info: Ctx, input: SegmentIdInput) -> RebuildSegmentPayload:
        service = info.context.services.segment_service
        try:
            pk = decode_int_id(input.id, "Segment")
            result = await service.rebuild(pk)
            segment = await service.get(pk)
        except (LeadBridgeError, BadUserInputError) as exc:
            return RebuildSegmentPayload(
                segment=None, added=None, removed=None, user_errors=[_error(exc)]
            )
        return RebuildSegmentPayload(
            segment=Segment.build(segment),
            added=result.added,
            removed=result.removed,
            user_errors=[],
        )

    @strawberry.mutation(
        extensions=_WRITE, description="Make contacts members, whatever the filters say."
    )
    async def add_contacts_to_segment(
        self, info: Ctx, input: SegmentContactsInput
    ) -> SegmentContactsPayload:
        return await _manual(info, input, add=True)

    @strawberry.mutation(
        extensions=_WRITE, description="Take contacts out, and keep them out of rebuilds."
    )
    async def remove_contacts_from_segment(
        self, info: Ctx, input: SegmentContactsInput
    ) -> SegmentContactsPayload:
        return await _manual(info, input, add=False)


async def _manual(info: Ctx, input: SegmentContactsInput, *, add: bool) -> SegmentContactsPayload:
    service = info.context.services.segment_service
    try:
        pk = decode_int_id(input.id, "Segment")
    except BadUserInputError as exc:
        return SegmentContactsPayload(segment=None, changed=None, user_errors=[_error(exc)])
    try:
        ids = [decode_int_id(c, "Contact", "contactIds") for c in input.contact_ids]
    except BadUserInputError as exc:
        return SegmentContactsPayload(
            segment=None, changed=None, user_errors=[user_error(exc, ["input", "contactIds"])]
        )
    try:
        changed = await (service.add_contacts(pk, ids) if add else service.remove_contacts(pk, ids))
        segment = await service.get(pk)
    except NotFoundError as exc:
        field = "contactIds" if "contact" in str(exc) else "id"
        return SegmentContactsPayload(
            segment=None, changed=None, user_errors=[user_error(exc, ["input", field])]
        )
    except LeadBridgeError as exc:
        return SegmentContactsPayload(segment=None, changed=None, user_errors=[_error(exc)])
    return SegmentContactsPayload(segment=Segment.build(segment), changed=changed, user_errors=[])
