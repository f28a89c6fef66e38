"""Integrations: what is installed, how it is configured, how its sync fares.

Credentials are write-only: they go in through ``configureIntegration`` and only whether
they are set (``credentialsSet``, ``credentialFields.set``) ever comes out. A frontend renders
the settings form from ``settingsSchema`` and the mapping editor from ``objects``.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime
from typing import Any

import pydantic
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from leadbridge import LeadBridgeError, NotFoundError, Scope, ValidationError
from leadbridge.contacts import CORE_FIELDS, FieldSpec
from leadbridge.integrations import (
    BaseIntegration,
    Direction,
    FieldMapping,
    IntegrationField,
    LoadedIntegration,
    ObjectSpec,
)
from leadbridge.sync import IntegrationSyncStatus, StoredSyncFailure, SyncStatus
from leadbridge.sync import SyncRun as CoreSyncRun

from .._context import GatewayContext
from ._auth import RequireScope
from ._common import UserError, camel, user_error
from ._relay import (
    DEFAULT_PAGE,
    Connection,
    Node,
    check_first,
    connection,
    decode_cursor,
    encode_cursor,
    encode_id,
)
from .contacts import CustomFieldType

Ctx = Info[GatewayContext, None]

log = logging.getLogger("leadbridge.gateway")

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

FieldDirection = strawberry.enum(Direction, name="FieldDirection")
SyncRunStatus = strawberry.enum(SyncStatus, name="SyncRunStatus")


@strawberry.enum(description="How an integration's sync fares.")
class SyncState(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    FAILING = "failing"
    HEALTHY = "healthy"


_ERRORS_ORDER = "sync_errors"


@strawberry.type(description="One object a sync run could not sync, or left out on purpose.")
class SyncObjectError:
    direction: str = strawberry.field(description="`pull` or `push`.")
    object: str
    message: str
    integration_id: str | None = strawberry.field(description="The object's id in the integration.")
    contact_id: strawberry.ID | None = strawberry.field(description="The contact's global ID.")
    field: str | None
    skipped: bool = strawberry.field(
        description="Left out on purpose (`message` says why), not a failure."
    )
    created_at: datetime
    resolved_at: datetime | None = strawberry.field(
        description="When a later run synced the object."
    )

    @classmethod
    def build(cls, stored: StoredSyncFailure) -> SyncObjectError:
        failure = stored.failure
        contact = failure.contact_id
        assert failure.created_at is not None  # a stored failure has its time
        return cls(
            direction=failure.direction,
            object=failure.object,
            message=failure.message,
            integration_id=failure.integration_id,
            contact_id=strawberry.ID(encode_id("Contact", contact)) if contact else None,
            field=failure.field,
            skipped=failure.skipped,
            created_at=failure.created_at,
            resolved_at=failure.resolved_at,
        )


@strawberry.type(description="A sync run: one pull and push of an integration.")
class SyncRun(Node):
    integration: str
    trigger: str = strawberry.field(description="`cli`, `api`, `webhook` or `schedule`.")
    status: SyncRunStatus  # type: ignore[valid-type]
    options: JSON
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime
    cancel_requested: bool
    error: str | None
    pulled: int
    created: int
    updated: int
    unchanged: int
    conflicts: int
    pushed: int
    failed: int
    skipped: int = strawberry.field(
        description="Objects left out on purpose (no email, a team member): not failures."
    )
    api_calls: int
    pk: strawberry.Private[int]

    @classmethod
    def build(cls, run: CoreSyncRun) -> SyncRun:
        c = run.counters
        return cls(
            id=strawberry.ID(encode_id("SyncRun", run.id)),
            pk=run.id,
            integration=run.integration,
            trigger=run.trigger,
            status=run.status,
            options=dict(run.options),  # type: ignore[arg-type]
            started_at=run.started_at,
            finished_at=run.finished_at,
            heartbeat_at=run.heartbeat_at,
            cancel_requested=run.cancel_requested,
            error=run.error,
            pulled=c.pulled,
            created=c.created,
            updated=c.updated,
            unchanged=c.unchanged,
            conflicts=c.conflicts,
            pushed=c.pushed,
            failed=c.failed,
            skipped=c.skipped,
            api_calls=c.api_calls,
        )

    @strawberry.field(description="The objects the run could not sync, newest first.")
    async def errors(
        self, info: Ctx, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> Connection[SyncObjectError]:
        check_first(first)
        start = decode_cursor(after, _ERRORS_ORDER)[1] if after is not None else None
        runs = info.context.services.sync_runs
        async with info.context.reads.session() as session:
            page, has_next = await runs.error_page(session, self.pk, limit=first, before=start)

        async def count() -> int:
            async with info.context.reads.session() as session:
                return await runs.error_count(session, self.pk)

        return connection(
            [SyncObjectError.build(e) for e in page],
            [encode_cursor(_ERRORS_ORDER, e.id, e.id) for e in page],
            has_next=has_next,
            after=after,
            count=count,
        )


@strawberry.type(description="Where an integration's sync stands.")
class IntegrationSyncState:
    state: SyncState
    running_run_id: strawberry.ID | None
    last_error: str | None = strawberry.field(description="The error of the last run, if any.")
    next_cursors: JSON = strawberry.field(
        description="Per object, the cursor the next run pulls from (`null`: from the start)."
    )
    mapped_objects: int
    unresolved_errors: int

    @classmethod
    def build(cls, status: IntegrationSyncStatus | None) -> IntegrationSyncState:
        if status is None:
            return cls(
                state=SyncState.IDLE,
                running_run_id=None,
                last_error=None,
                next_cursors={},  # type: ignore[arg-type]
                mapped_objects=0,
                unresolved_errors=0,
            )
        last = status.last_run
        if status.running_run_id is not None:
            state = SyncState.RUNNING
        elif last is None:
            state = SyncState.IDLE
        elif last.status in (SyncStatus.FAILED, SyncStatus.PARTIAL):
            state = SyncState.FAILING
        else:
            state = SyncState.HEALTHY
        running = status.running_run_id
        return cls(
            state=state,
            running_run_id=strawberry.ID(encode_id("SyncRun", running)) if running else None,
            last_error=last.error if last is not None else None,
            next_cursors=dict(status.cursors),  # type: ignore[arg-type]
            mapped_objects=status.mapped,
            unresolved_errors=status.unresolved_errors,
        )


@strawberry.type(description="One mapped field: which way values flow between the two sides.")
class FieldMappingEntry:
    object: str
    internal_field: str
    integration_field: str
    direction: FieldDirection  # type: ignore[valid-type]


@strawberry.type(description="A field of an integration object, the right side of a mapping.")
class IntegrationObjectField:
    name: str
    label: str
    type: CustomFieldType  # type: ignore[valid-type]
    required: bool
    unique_identifier: bool = strawberry.field(
        description="Matches objects to contacts (the email)."
    )
    allowed_directions: list[FieldDirection] = strawberry.field(  # type: ignore[valid-type]
        description="The directions a mapping of this field may take (read-only fields: "
        "`TO_INTERNAL` only)."
    )

    @classmethod
    def build(cls, field: IntegrationField) -> IntegrationObjectField:
        return cls(
            name=field.name,
            label=field.label,
            type=field.type,
            required=field.required,
            unique_identifier=field.unique_identifier,
            allowed_directions=[d for d in Direction if d in field.directions],
        )


@strawberry.type(description="A contact field (core or custom), the left side of a mapping.")
class InternalField:
    name: str = strawberry.field(description="The alias a mapping's `internalField` names.")
    label: str
    type: CustomFieldType  # type: ignore[valid-type]
    custom: bool = strawberry.field(description="A custom field (else a core column).")
    required: bool
    unique_identifier: bool
    options: list[str] | None = strawberry.field(description="Choices of select fields.")

    @classmethod
    def build(cls, spec: FieldSpec) -> InternalField:
        return cls(
            name=spec.alias,
            label=spec.label,
            type=spec.type,
            custom=not spec.is_core,
            required=spec.is_required,
            unique_identifier=spec.is_unique_identifier,
            options=list(spec.options) if spec.options is not None else None,
        )


@strawberry.type(description="An object an integration syncs (`people`) and its mappable fields.")
class IntegrationObject:
    name: str
    label: str
    internal_object: str = strawberry.field(description="What it maps to in LeadBridge.")
    fields: list[IntegrationObjectField]

    @strawberry.field(
        description="The fields it can map to: core fields, then custom fields by alias."
    )
    async def internal_fields(self, info: Ctx) -> list[InternalField]:
        if self.internal_object != "contact":
            return []
        custom = await info.context.loaders.custom_fields()
        return [InternalField.build(s) for s in (*CORE_FIELDS.values(), *custom)]

    @classmethod
    def build(cls, spec: ObjectSpec) -> IntegrationObject:
        return cls(
            name=spec.name,
            label=spec.label,
            internal_object=spec.internal_object,
            fields=[IntegrationObjectField.build(f) for f in spec.fields],
        )


@strawberry.type(description="A credential an integration takes; its value is never returned.")
class CredentialField:
    name: str = strawberry.field(description="The key `configureIntegration` takes.")
    label: str
    description: str | None
    required: bool
    set: bool = strawberry.field(description="Whether a value is stored.")


def _label(name: str, info: pydantic.fields.FieldInfo) -> str:
    return info.title or name.replace("_", " ").capitalize()


def settings_json_schema(plugin: BaseIntegration) -> dict[str, Any] | None:
    """The JSON Schema (2020-12) of ``plugin``'s settings, from its pydantic model."""
    try:
        schema = plugin.settings_schema.model_json_schema()
    except pydantic.PydanticUserError:  # a type JSON Schema cannot express
        log.warning("the settings of %s have no JSON Schema", plugin.name, exc_info=True)
        return None
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


@strawberry.type(description="An installed integration (a plugin).")
class Integration(Node):
    name: str
    display_name: str
    description: str
    icon_url: str | None = strawberry.field(
        description="Where the gateway serves the icon (`/integrations/{name}/icon`)."
    )
    features: list[str]
    enabled: bool
    configured: bool
    credentials_set: bool = strawberry.field(
        description="Whether credentials are stored; their values are never returned."
    )
    conflict_winner: str
    field_mappings: list[FieldMappingEntry]
    settings: JSON = strawberry.field(
        description="The settings in force (the schema's defaults where none is stored); "
        "never secret: credentials are apart."
    )
    settings_schema: JSON | None = strawberry.field(
        description="JSON Schema (2020-12) of `settings`: types, defaults, descriptions, "
        "choices and bounds, the rules `configureIntegration` applies; `null` when the "
        "plugin's settings cannot be expressed in it."
    )
    objects: list[IntegrationObject] = strawberry.field(
        description="What the integration syncs, with the fields a mapping may use."
    )
    _plugin: strawberry.Private[BaseIntegration]
    _status: strawberry.Private[IntegrationSyncStatus | None]

    @strawberry.field(
        description="The credentials the integration takes and whether each is stored; "
        "never their values."
    )
    async def credential_fields(self, info: Ctx) -> list[CredentialField]:
        stored = await info.context.services.integration_settings_service.credential_keys(self.name)
        return [
            CredentialField(
                name=name,
                label=_label(name, field),
                description=field.description,
                required=field.is_required(),
                set=name in stored,
            )
            for name, field in self._plugin.credentials_schema.model_fields.items()
        ]

    @strawberry.field(description="The last finished or running run.")
    def last_run(self) -> SyncRun | None:
        last = self._status.last_run if self._status is not None else None
        return SyncRun.build(last) if last is not None else None

    @strawberry.field(description="idle, running, failing or healthy, with the last error.")
    def sync_status(self) -> IntegrationSyncState:
        return IntegrationSyncState.build(self._status)


async def _integration(ctx: GatewayContext, loaded: LoadedIntegration) -> Integration:
    services = ctx.services
    stored = await services.integration_settings_service.get(loaded.name)
    statuses = await services.sync_run_service.status(loaded.name)
    plugin = loaded.integration
    return Integration(
        id=strawberry.ID(encode_id("Integration", loaded.name)),
        name=loaded.name,
        display_name=plugin.display_name,
        description=plugin.description,
        icon_url=f"/integrations/{loaded.name}/icon" if plugin.icon else None,
        features=sorted(f.value for f in plugin.features),
        enabled=stored.enabled,
        configured=stored.configured,
        credentials_set=stored.credentials_set,
        conflict_winner=stored.conflict_winner,
        field_mappings=[
            FieldMappingEntry(
                object=obj,
                internal_field=m.internal_field,
                integration_field=m.integration_field,
                direction=m.direction,
            )
            for obj, entries in sorted(stored.mappings.items())
            for m in entries
        ],
        settings=dict(stored.settings),  # type: ignore[arg-type]
        settings_schema=settings_json_schema(plugin),  # type: ignore[arg-type]
        objects=[IntegrationObject.build(o) for o in plugin.objects()],
        _plugin=plugin,
        _status=statuses[0] if statuses else None,
    )


@strawberry.type(description="An integration object linked to a contact.")
class IntegrationMapping:
    integration: str
    object: str
    external_id: str = strawberry.field(description="The object's id in the integration.")
    last_synced_at: datetime | None


async def mappings_of(ctx: GatewayContext, contact_pk: int) -> list[IntegrationMapping]:
    """``Contact.integrationMappings``, batched per request."""
    await ctx.require(Scope.INTEGRATIONS_READ, "Contact.integrationMappings")
    return [
        IntegrationMapping(
            integration=m.integration,
            object=m.object,
            external_id=m.integration_id,
            last_synced_at=m.last_synced_at,
        )
        for m in await ctx.loaders.mappings.load(contact_pk)
    ]


_READ: list[FieldExtension] = [RequireScope(Scope.INTEGRATIONS_READ)]
_WRITE: list[FieldExtension] = [RequireScope(Scope.INTEGRATIONS_WRITE, writes=True)]


@strawberry.type
class IntegrationsQuery:
    @strawberry.field(extensions=_READ, description="Installed integrations, by name.")
    async def integrations(self, info: Ctx) -> list[Integration]:
        registry = info.context.services.integration_registry
        return [await _integration(info.context, loaded) for loaded in registry.all()]

    @strawberry.field(extensions=_READ, description="One installed integration.")
    async def integration(self, info: Ctx, name: str) -> Integration | None:
        try:
            loaded = info.context.services.integration_registry.get(name)
        except NotFoundError:
            return None
        return await _integration(info.context, loaded)


@strawberry.input(description="Fields left out are kept; credentials are write-only.")
class ConfigureIntegrationInput:
    name: str
    enabled: bool | None = None
    settings: JSON | None = strawberry.field(
        default=None, description="Settings to change (`null` values unset a key)."
    )
    credentials: JSON | None = strawberry.field(
        default=None, description="Credentials to store (encrypted; never returned)."
    )
    conflict_winner: str | None = strawberry.field(
        default=None, description="`internal` or `integration`."
    )
    first_sync_from: datetime | None = None


@strawberry.input
class FieldMappingInput:
    internal_field: str
    integration_field: str
    direction: FieldDirection | None = None  # type: ignore[valid-type]


@strawberry.input(description="Replace the field mapping of one object of an integration.")
class SetFieldMappingInput:
    name: str
    object: str
    mappings: list[FieldMappingInput]


@strawberry.type
class IntegrationPayload:
    integration: Integration | None
    user_errors: list[UserError]


def _error(exc: LeadBridgeError, default: str) -> UserError:
    field = getattr(exc, "field", None) or default
    head, _, rest = field.partition(".")
    path = ["input", camel(head)] + ([rest] if rest else [])
    return user_error(exc, path)


def _object(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be an object", field=field)
    return value


@strawberry.type
class IntegrationsMutation:
    @strawberry.mutation(
        extensions=_WRITE,
        description="Change an integration's settings, credentials (write-only) or state.",
    )
    async def configure_integration(
        self, info: Ctx, input: ConfigureIntegrationInput
    ) -> IntegrationPayload:
        services = info.context.services
        try:
            loaded = services.integration_registry.get(input.name)
            await services.integration_settings_service.configure(
                input.name,
                settings=_object(input.settings, "settings"),
                credentials=_object(input.credentials, "credentials"),
                enabled=input.enabled,
                conflict_winner=input.conflict_winner,  # type: ignore[arg-type]
                first_sync_from=input.first_sync_from,
            )
        except LeadBridgeError as exc:
            return IntegrationPayload(integration=None, user_errors=[_error(exc, "name")])
        return IntegrationPayload(
            integration=await _integration(info.context, loaded), user_errors=[]
        )

    @strawberry.mutation(extensions=_WRITE, description="Replace one object's field mapping.")
    async def set_field_mapping(self, info: Ctx, input: SetFieldMappingInput) -> IntegrationPayload:
        services = info.context.services
        try:
            loaded = services.integration_registry.get(input.name)
            spec = loaded.integration.get_object(input.object)
            entries = []
            for m in input.mappings:
                direction = m.direction
                if direction is None:
                    field = spec.field(m.integration_field)
                    direction = field.widest_direction() if field else Direction.BIDIRECTIONAL
                entries.append(FieldMapping(m.internal_field, m.integration_field, direction))
            await services.integration_settings_service.set_mapping(
                input.name, input.object, entries
            )
        except LeadBridgeError as exc:
            return IntegrationPayload(integration=None, user_errors=[_error(exc, "mappings")])
        return IntegrationPayload(
            integration=await _integration(info.context, loaded), user_errors=[]
        )
