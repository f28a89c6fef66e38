"""Contacts, custom fields and tags: queries, the Contact node and its mutations."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from leadbridge import LeadBridgeError, Scope, ValidationError
from leadbridge.contacts import (
    CORE_FIELDS,
    ContactKeyset,
    ContactQuery,
    ContactSort,
    FieldSpec,
    FieldType,
)
from leadbridge.contacts import Contact as CoreContact

from .._context import GatewayContext
from .._errors import BadUserInputError
from ._auth import RequireScope
from ._common import IntRange, OrderDirection, UserError, camel, user_error
from ._relay import (
    DEFAULT_PAGE,
    MAX_PK,
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

if TYPE_CHECKING:
    from .integrations import IntegrationMapping
    from .points import GroupScore, PointChange
    from .segments import Segment

CustomFieldType = strawberry.enum(FieldType, name="CustomFieldType")

Ctx = Info[GatewayContext, None]


@strawberry.type(description="The definition of a custom contact field.")
class CustomField(Node):
    alias: str
    label: str
    type: CustomFieldType  # type: ignore[valid-type]
    options: list[str] | None = strawberry.field(description="Choices of select fields.")
    is_unique_identifier: bool
    is_required: bool

    @classmethod
    def from_spec(cls, spec: FieldSpec) -> CustomField:
        return cls(
            id=strawberry.ID(encode_id("CustomField", spec.id or 0)),
            alias=spec.alias,
            label=spec.label,
            type=spec.type,
            options=list(spec.options) if spec.options is not None else None,
            is_unique_identifier=spec.is_unique_identifier,
            is_required=spec.is_required,
        )


@strawberry.type(description="A contact's value of one custom field.")
class CustomFieldValue:
    alias: str
    type: CustomFieldType  # type: ignore[valid-type]
    value: JSON | None = strawberry.field(
        description=(
            "The value as JSON: text, number, boolean, `YYYY-MM-DD` (date), "
            "`YYYY-MM-DDTHH:MM:SSZ` (datetime) or a list of options (multiselect)."
        )
    )
    _spec: strawberry.Private[FieldSpec]

    @strawberry.field(description="The field's definition.")
    def field(self) -> CustomField:
        return CustomField.from_spec(self._spec)


@strawberry.type(description="A marketing contact.")
class Contact(Node):
    email: str
    first_name: str | None
    last_name: str | None
    company: str | None
    phone: str | None
    city: str | None
    country: str | None
    points: int
    created_at: datetime
    updated_at: datetime
    last_active_at: datetime | None
    # Filled in by whoever builds the contact, for a whole page at once (one statement): a
    # plain attribute costs the executor far less than a resolver per contact.
    tags: list[str] = strawberry.field(description="Tag names, sorted.")
    pk: strawberry.Private[int]
    values: strawberry.Private[dict[str, Any]]

    @classmethod
    def build(cls, contact: CoreContact, tags: Sequence[str]) -> Contact:
        """From a core :class:`leadbridge.Contact`, with its tags."""
        return cls(
            id=strawberry.ID(encode_id("Contact", contact.id)),
            pk=contact.id,
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            company=contact.company,
            phone=contact.phone,
            city=contact.city,
            country=contact.country,
            points=contact.points,
            created_at=contact.created_at,
            updated_at=contact.updated_at,
            last_active_at=contact.last_active_at,
            values=contact.fields,
            tags=list(tags),
        )

    @strawberry.field(
        description="Segments the contact is a stored member of (needs `segments:read`)."
    )
    async def segments(
        self, info: Ctx
    ) -> list[Annotated[Segment, strawberry.lazy("leadbridge_gateway._schema.segments")]]:
        from .segments import segments_of

        return await segments_of(info.context, self.pk)

    @strawberry.field(
        description="Integration objects linked to the contact (needs `integrations:read`)."
    )
    async def integration_mappings(
        self, info: Ctx
    ) -> list[
        Annotated[IntegrationMapping, strawberry.lazy("leadbridge_gateway._schema.integrations")]
    ]:
        from .integrations import mappings_of

        return await mappings_of(info.context, self.pk)

    @strawberry.field(description="Score per points group, by group name.")
    async def group_scores(
        self, info: Ctx
    ) -> list[Annotated[GroupScore, strawberry.lazy("leadbridge_gateway._schema.points")]]:
        from .points import group_scores_of

        return await group_scores_of(info.context, self.pk)

    @strawberry.field(description="Points changes, newest first.")
    async def point_history(
        self, info: Ctx, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> Connection[Annotated[PointChange, strawberry.lazy("leadbridge_gateway._schema.points")]]:
        from .points import history_of

        return await history_of(info.context, self.pk, first, after)

    # Answers at once when the definitions were read before (the executor's fast path) and
    # through the request's loader otherwise, hence a plain function that may return an
    # awaitable.

    @strawberry.field(
        description="Values of the custom fields (every defined field, or those named)."
    )
    def custom_fields(self, info: Ctx, aliases: list[str] | None = None) -> list[CustomFieldValue]:
        specs = info.context.loaders.custom_fields()
        if specs.done():
            return self._values(specs.result(), aliases)
        return self._values_later(specs, aliases)  # type: ignore[return-value]

    async def _values_later(
        self, specs: Awaitable[list[FieldSpec]], aliases: list[str] | None
    ) -> list[CustomFieldValue]:
        return self._values(await specs, aliases)

    def _values(self, specs: list[FieldSpec], aliases: list[str] | None) -> list[CustomFieldValue]:
        if aliases is not None:
            wanted = set(aliases)
            specs = [s for s in specs if s.alias in wanted]
        return [
            CustomFieldValue(alias=s.alias, type=s.type, value=self.values.get(s.alias), _spec=s)
            for s in specs
        ]


# -- contacts(...) arguments --------------------------------------------------------------


@strawberry.input(description="Contacts matching every given condition.")
class ContactFilter:
    email: str | None = strawberry.field(default=None, description="Exact, ignoring case.")
    search: str | None = strawberry.field(
        default=None,
        description="Text contained in the first or last name, email or company (any case).",
    )
    tag: str | None = strawberry.field(default=None, description="Contacts with this tag.")
    segment: str | None = strawberry.field(
        default=None, description="Stored members of the segment with this alias."
    )
    points: IntRange | None = None
    updated_since: datetime | None = strawberry.field(
        default=None, description="Changed at or after this time."
    )


@strawberry.enum
class ContactOrderField(enum.Enum):
    ID = "id"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    POINTS = "points"
    EMAIL = "email"


@strawberry.input(description="Ordering of contacts; ties are broken by ID.")
class ContactOrder:
    field: ContactOrderField = ContactOrderField.ID
    direction: OrderDirection = OrderDirection.ASC


def _query(f: ContactFilter | None) -> ContactQuery:
    if f is None:
        return ContactQuery()
    since = f.updated_since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return ContactQuery(
        email=f.email,
        search=f.search,
        tag=f.tag,
        segment=f.segment,
        points_min=f.points.min if f.points else None,
        points_max=f.points.max if f.points else None,
        updated_since=since,
    )


async def _count(ctx: GatewayContext, query: ContactQuery) -> int:
    async with ctx.reads.session() as session:
        return await ctx.services.contacts.count(session, query)


def _fits(value: Any, sort: ContactSort) -> bool:
    """Whether a cursor's sort value has the type of the sort key (cursors are client input)."""
    if sort in (ContactSort.CREATED_AT, ContactSort.UPDATED_AT):
        return isinstance(value, datetime)
    if sort is ContactSort.EMAIL:
        return isinstance(value, str)
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if sort is ContactSort.POINTS:  # an INTEGER column
        return -(2**31) <= value < 2**31
    return 0 <= value <= MAX_PK


def _cursor(order_key: str, keyset: ContactKeyset) -> str:
    return encode_cursor(order_key, keyset.value, keyset.id)


async def build_contacts(
    ctx: GatewayContext, contacts: Sequence[CoreContact | None], *, tags: bool = True
) -> list[Contact | None]:
    """Contact nodes, their tags read in one batch (``tags=False``: not asked for)."""
    found = [c.id for c in contacts if c is not None]
    names = await ctx.loaders.tags.load_many(found) if tags and found else [[] for _ in found]
    by_id = dict(zip(found, names, strict=True))
    return [Contact.build(c, by_id[c.id]) if c is not None else None for c in contacts]


async def _load_contact_nodes(ctx: GatewayContext, pks: Sequence[int]) -> list[Contact | None]:
    return await build_contacts(ctx, await ctx.loaders.contact.load_many(pks))


async def _load_field_nodes(ctx: GatewayContext, pks: Sequence[int]) -> list[CustomField | None]:
    by_id = {s.id: s for s in await ctx.loaders.custom_fields()}
    return [CustomField.from_spec(by_id[pk]) if pk in by_id else None for pk in pks]


register_node(NodeKind("Contact", Scope.CONTACTS_READ, _load_contact_nodes))
register_node(NodeKind("CustomField", Scope.CONTACTS_READ, _load_field_nodes))

_READ: list[FieldExtension] = [RequireScope(Scope.CONTACTS_READ)]
_WRITE: list[FieldExtension] = [RequireScope(Scope.CONTACTS_WRITE, writes=True)]


@strawberry.type
class ContactsQuery:
    @strawberry.field(
        extensions=_READ,
        description="Contacts, a page at a time (`first` 1 to 100, continue `after` a cursor).",
    )
    async def contacts(
        self,
        info: Ctx,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        filter: ContactFilter | None = None,
        order_by: ContactOrder | None = None,
    ) -> Connection[Contact]:
        check_first(first)
        order = order_by or ContactOrder()
        sort = ContactSort(order.field.value)
        descending = order.direction is OrderDirection.DESC
        order_key = f"{order.field.name}:{order.direction.name}"
        keyset = ContactKeyset(*decode_cursor(after, order_key)) if after is not None else None
        if keyset is not None and not _fits(keyset.value, sort):
            raise BadUserInputError(f"`after`: {after!r} is not a cursor this API issued")
        query = _query(filter)
        wanted = node_fields(info)
        async with info.context.reads.session() as session:
            contacts, has_next = await info.context.services.contacts.page(
                session,
                query,
                sort=sort,
                descending=descending,
                limit=first,
                after=keyset,
                with_tags="tags" in wanted,
            )
        if "customFields" in wanted:
            await info.context.loaders.custom_fields()
        return connection(
            [Contact.build(c, c.tags) for c in contacts],
            [_cursor(order_key, sort.keyset(c)) for c in contacts],
            has_next=has_next,
            after=after,
            count=lambda: _count(info.context, query),
        )

    @strawberry.field(extensions=_READ, description="One contact, by `id` or by `email`.")
    async def contact(
        self, info: Ctx, id: strawberry.ID | None = None, email: str | None = None
    ) -> Contact | None:
        if (id is None) == (email is None):
            raise BadUserInputError("give exactly one of `id` and `email`")
        if id is not None:
            found = await info.context.loaders.contact.load(decode_int_id(id, "Contact"))
        else:
            assert email is not None
            found = await info.context.loaders.contact_by_email.load(email)
        return (await build_contacts(info.context, [found]))[0]

    @strawberry.field(extensions=_READ, description="Definitions of the custom contact fields.")
    async def custom_fields(self, info: Ctx) -> list[CustomField]:
        return [CustomField.from_spec(s) for s in await info.context.loaders.custom_fields()]


# -- mutations ----------------------------------------------------------------------------


@strawberry.input(description="A custom field value to write; `null` clears it.")
class CustomFieldValueInput:
    alias: str
    value: JSON | None


@strawberry.input
class CreateContactInput:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    city: str | None = None
    country: str | None = None
    custom_fields: list[CustomFieldValueInput] | None = None
    tags: list[str] | None = None


@strawberry.input(description="Fields left out are kept; `null` clears a field.")
class UpdateContactInput:
    id: strawberry.ID
    email: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    custom_fields: list[CustomFieldValueInput] | None = strawberry.UNSET


@strawberry.input
class DeleteContactInput:
    id: strawberry.ID


@strawberry.input
class TagContactInput:
    id: strawberry.ID
    tags: list[str]


@strawberry.input
class CreateCustomFieldInput:
    alias: str
    type: CustomFieldType  # type: ignore[valid-type]
    label: str | None = None
    options: list[str] | None = None
    is_unique_identifier: bool = False
    is_required: bool = False


@strawberry.type
class ContactPayload:
    contact: Contact | None
    user_errors: list[UserError]


@strawberry.type
class DeleteContactPayload:
    deleted_contact_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class CreateCustomFieldPayload:
    custom_field: CustomField | None
    user_errors: list[UserError]


def _input_error(exc: LeadBridgeError | BadUserInputError, default: str = "id") -> UserError:
    """A user error whose path names the GraphQL input field (custom fields by alias)."""
    field = getattr(exc, "field", None) or default
    if field in CORE_FIELDS or field in ("id", "tags", "custom_fields"):
        path = ["input", camel(field)]
    else:
        path = ["input", "customFields", field]
    return user_error(exc, path)


def _values(fields: list[CustomFieldValueInput] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields or []:
        if item.alias in CORE_FIELDS:
            raise ValidationError(
                f"{item.alias!r} is a core field: set it with its own input field",
                field="custom_fields",
            )
        if item.alias in out:
            raise ValidationError(
                f"custom field {item.alias!r} is given twice", field="custom_fields"
            )
        out[item.alias] = item.value
    return out


def _core(input: Any, *, partial: bool) -> dict[str, Any]:
    """Core fields other than email; ``partial``: only those given (UNSET is left out)."""
    out = {}
    for name in CORE_FIELDS:
        value = getattr(input, name)
        if name == "email" or (partial and value is strawberry.UNSET):
            continue
        if partial or value is not None:
            out[name] = value
    return out


@strawberry.type
class ContactsMutation:
    @strawberry.mutation(extensions=_WRITE, description="Create a contact.")
    async def create_contact(self, info: Ctx, input: CreateContactInput) -> ContactPayload:
        service = info.context.services.contact_service
        try:
            created = await service.create(
                input.email,
                fields=_values(input.custom_fields),
                tags=input.tags or (),
                **_core(input, partial=False),
            )
        except (LeadBridgeError, BadUserInputError) as exc:
            return ContactPayload(contact=None, user_errors=[_input_error(exc)])
        return ContactPayload(contact=Contact.build(created, created.tags), user_errors=[])

    @strawberry.mutation(
        extensions=_WRITE, description="Change the given fields of a contact; others are kept."
    )
    async def update_contact(self, info: Ctx, input: UpdateContactInput) -> ContactPayload:
        service = info.context.services.contact_service
        try:
            pk = decode_int_id(input.id, "Contact")
            changes = _core(input, partial=True)
            if input.email is not strawberry.UNSET:
                changes["email"] = input.email
            if input.custom_fields is not strawberry.UNSET:
                changes.update(_values(input.custom_fields))
            updated = await service.update(pk, changes)
        except (LeadBridgeError, BadUserInputError) as exc:
            return ContactPayload(contact=None, user_errors=[_input_error(exc)])
        return ContactPayload(contact=Contact.build(updated, updated.tags), user_errors=[])

    @strawberry.mutation(extensions=_WRITE, description="Delete a contact.")
    async def delete_contact(self, info: Ctx, input: DeleteContactInput) -> DeleteContactPayload:
        try:
            pk = decode_int_id(input.id, "Contact")
            await info.context.services.contact_service.delete(pk)
        except (LeadBridgeError, BadUserInputError) as exc:
            return DeleteContactPayload(deleted_contact_id=None, user_errors=[_input_error(exc)])
        return DeleteContactPayload(deleted_contact_id=input.id, user_errors=[])

    @strawberry.mutation(extensions=_WRITE, description="Add tags to a contact.")
    async def tag_contact(self, info: Ctx, input: TagContactInput) -> ContactPayload:
        return await _retag(info, input, add=True)

    @strawberry.mutation(extensions=_WRITE, description="Remove tags from a contact.")
    async def untag_contact(self, info: Ctx, input: TagContactInput) -> ContactPayload:
        return await _retag(info, input, add=False)

    @strawberry.mutation(extensions=_WRITE, description="Define a custom contact field.")
    async def create_custom_field(
        self, info: Ctx, input: CreateCustomFieldInput
    ) -> CreateCustomFieldPayload:
        try:
            spec = await info.context.services.custom_field_service.define(
                input.alias,
                input.type,
                label=input.label,
                options=input.options,
                is_unique_identifier=input.is_unique_identifier,
                is_required=input.is_required,
            )
        except LeadBridgeError as exc:
            field = ["input", camel(getattr(exc, "field", None) or "alias")]
            return CreateCustomFieldPayload(custom_field=None, user_errors=[user_error(exc, field)])
        return CreateCustomFieldPayload(custom_field=CustomField.from_spec(spec), user_errors=[])


async def _retag(info: Ctx, input: TagContactInput, *, add: bool) -> ContactPayload:
    service = info.context.services.contact_service
    try:
        pk = decode_int_id(input.id, "Contact")
        if not input.tags:
            raise ValidationError("give at least one tag", field="tags")
        contact = await (service.tag(pk, *input.tags) if add else service.untag(pk, *input.tags))
    except (LeadBridgeError, BadUserInputError) as exc:
        return ContactPayload(contact=None, user_errors=[_input_error(exc)])
    return ContactPayload(contact=Contact.build(contact, contact.tags), user_errors=[])
