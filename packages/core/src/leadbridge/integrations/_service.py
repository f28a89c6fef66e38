"""Stored integration settings: enabled flag, encrypted credentials, settings, mappings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

import pydantic
import pydantic_core
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._crypto import SecretBox
from .._errors import ConflictError, ValidationError
from ..auth import RawTokenAccess, SecretBoxTokenStore
from ..contacts import CustomFieldService, FieldSpec
from ..db import utcnow
from ..http import RetriableAPIError
from ._base import BaseIntegration, FieldMapping
from ._mapping import mappings_from_doc, mappings_to_doc, validate_mappings
from ._models import IntegrationRow
from ._registry import IntegrationRegistry

ConflictWinner = Literal["internal", "integration"]
#: Seconds a token refresh waits for another process's refresh (SQLite: the busy timeout).
_TOKEN_LOCK_WAIT = 30
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout
_WINNERS: tuple[str, ...] = get_args(ConflictWinner)


@dataclass(frozen=True)
class IntegrationSettings:
    """What is stored for one integration. Never holds the credentials, only whether they are set.

    ``mappings`` maps each object name to its field mappings. ``configured`` is false until the
    integration is first saved; until then ``settings`` are the schema's defaults and
    ``mappings`` the integration's proposed default mapping.
    """

    name: str
    enabled: bool
    settings: dict[str, Any]
    credentials_set: bool
    mappings: dict[str, list[FieldMapping]]
    conflict_winner: ConflictWinner = "internal"
    first_sync_from: datetime | None = None
    updated_at: datetime | None = None
    configured: bool = field(default=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (what ``leadbridge integrations show --json`` prints)."""
        return {
            "name": self.name,
            "enabled": self.enabled,
            "configured": self.configured,
            "credentials_set": self.credentials_set,
            "settings": self.settings,
            "conflict_winner": self.conflict_winner,
            "first_sync_from": self.first_sync_from.isoformat() if self.first_sync_from else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "mappings": {
                obj: [
                    {
                        "internal_field": m.internal_field,
                        "integration_field": m.integration_field,
                        "direction": m.direction.value,
                    }
                    for m in mappings
                ]
                for obj, mappings in self.mappings.items()
            },
        }


def _is_lock_wait(exc: DBAPIError) -> bool:
    """Whether ``exc`` is a lock wait that ran out (PostgreSQL's lock_timeout, SQLite's busy)."""
    return getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE or (
        "database is locked" in str(exc.orig)
    )


def _reveal(value: Any) -> Any:
    # model_dump keeps SecretStr objects, and JSON dumping would mask them: store the value.
    if isinstance(value, pydantic.SecretStr):
        return value.get_secret_value()
    if isinstance(value, pydantic.SecretBytes):
        return value.get_secret_value().decode()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(v) for v in value]
    return value


def _whole_numbers(value: Any) -> Any:
    # JSON has one number type: 2.0 is the integer 2, as JSON Schema's "integer" has it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_whole_numbers(v) for v in value]
    return value


def _validate(
    kind: str, schema: type[pydantic.BaseModel], data: Mapping[str, Any]
) -> pydantic.BaseModel:
    # Judged as the JSON it is, strictly: the verdict of the published JSON Schema
    # (``model_json_schema``), so a form that validates with it and the server agree ("5" is
    # no number, 1 is no boolean).
    try:
        document = pydantic_core.to_json(_whole_numbers(_reveal(dict(data))))
    except pydantic_core.PydanticSerializationError:
        raise ValidationError(f"{kind} must hold JSON values only", field=kind) from None
    try:
        return schema.model_validate_json(document, strict=True)
    except pydantic.ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False, include_context=False)
        paths = [".".join([kind, *(str(p) for p in e["loc"])]) for e in problems]
        message = "; ".join(f"{path}: {e['msg']}" for path, e in zip(paths, problems, strict=True))
        error = ValidationError(message, field=paths[0] if paths else kind)
    # Raised outside the except block, without a cause: pydantic's own message shows the input,
    # and credentials must not reach a traceback or a log line.
    raise error


def _merge(
    kind: str,
    integration: BaseIntegration,
    schema: type[pydantic.BaseModel],
    stored: Mapping[str, Any],
    updates: Mapping[str, Any],
) -> dict[str, Any]:
    """Stored values updated (``None`` unsets a key), validated by ``schema``, ready to store."""
    extra_allowed = schema.model_config.get("extra") == "allow"
    for key in updates:
        if not extra_allowed and key not in schema.model_fields:
            known = ", ".join(schema.model_fields) or "none"
            raise ValidationError(
                f"{kind}.{key}: {integration.name} has no such {kind} key (known: {known})",
                field=f"{kind}.{key}",
            )
    merged = {k: v for k, v in {**stored, **updates}.items() if v is not None}
    declared = {k: v for k, v in merged.items() if extra_allowed or k in schema.model_fields}
    # Keys outside the schema (a token a TokenStore saved) are kept as they are.
    kept = {k: v for k, v in merged.items() if k not in declared}
    model = _validate(kind, schema, declared)
    dumped = _reveal(model.model_dump(exclude_unset=True))
    return {**kept, **pydantic_core.to_jsonable_python(dumped)}


def _settings_view(schema: type[pydantic.BaseModel], stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored settings with the schema's defaults filled in."""
    try:
        return schema.model_validate(dict(stored)).model_dump(mode="json")
    except pydantic.ValidationError:
        defaults = {
            name: info.get_default(call_default_factory=True)
            for name, info in schema.model_fields.items()
            if not info.is_required()
        }
        return {**pydantic_core.to_jsonable_python(defaults), **stored}


def _in_field_order(
    integration: BaseIntegration, mappings: dict[str, list[FieldMapping]]
) -> dict[str, list[FieldMapping]]:
    """Mappings in the order the integration declares its objects and fields.

    (PostgreSQL's JSONB keeps no key order, so the stored order means nothing.)
    """
    order = {
        obj.name: {f.name: i for i, f in enumerate(obj.fields)} for obj in integration.objects()
    }
    objects = sorted(
        mappings, key=lambda o: (list(order).index(o) if o in order else len(order), o)
    )
    out = {}
    for obj in objects:
        fields = order.get(obj, {})
        out[obj] = sorted(
            mappings[obj],
            key=lambda m: (fields.get(m.integration_field, len(fields)), m.integration_field),
        )
    return out


class IntegrationSettingsService:
    """Read and change what is stored for each integration.

    Credentials are write-only: :meth:`configure` merges, validates and encrypts them; reading
    settings tells only whether they are set. :meth:`credentials` decrypts them for the
    integration's own use (its HTTP client, its token store).
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        secret_box: SecretBox,
        registry: IntegrationRegistry,
        custom_field_service: CustomFieldService | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._box = secret_box
        self._registry = registry
        self._fields = custom_field_service or CustomFieldService(session_factory)

    def _integration(self, name: str) -> BaseIntegration:
        return self._registry.get(name).integration

    async def _internal_fields(self) -> dict[str, FieldSpec]:
        return await self._fields.all_fields()

    @staticmethod
    async def _row(
        session: AsyncSession, name: str, *, for_update: bool = False
    ) -> IntegrationRow | None:
        stmt = select(IntegrationRow).where(IntegrationRow.name == name)
        return await session.scalar(stmt.with_for_update() if for_update else stmt)

    def _valid_defaults(
        self, integration: BaseIntegration, internal: Mapping[str, FieldSpec]
    ) -> dict[str, list[FieldMapping]]:
        """The proposed default mapping, keeping only the objects whose proposal is valid."""
        out: dict[str, list[FieldMapping]] = {}
        for obj_name, mappings in integration.default_mapping(internal).items():
            try:
                obj = integration.get_object(obj_name)
                out[obj_name] = validate_mappings(integration.name, obj, mappings, internal)
            except ValidationError:
                continue
        return out

    def _view(
        self,
        integration: BaseIntegration,
        row: IntegrationRow | None,
        default_mappings: dict[str, list[FieldMapping]] | None = None,
    ) -> IntegrationSettings:
        if row is None:
            return IntegrationSettings(
                name=integration.name,
                enabled=False,
                settings=_settings_view(integration.settings_schema, {}),
                credentials_set=False,
                mappings=default_mappings or {},
            )
        winner: ConflictWinner = (
            "integration" if row.conflict_winner == "integration" else "internal"
        )
        return IntegrationSettings(
            name=row.name,
            enabled=row.enabled,
            settings=_settings_view(integration.settings_schema, row.settings),
            credentials_set=row.credentials is not None,
            mappings=_in_field_order(integration, mappings_from_doc(row.mappings)),
            conflict_winner=winner,
            first_sync_from=row.first_sync_from,
            updated_at=row.updated_at,
            configured=True,
        )

    # -- reads -----------------------------------------------------------------------------

    async def get(self, name: str) -> IntegrationSettings:
        """The stored settings of ``name`` (its defaults when it was never configured)."""
        integration = self._integration(name)
        async with self._session_factory() as session:
            row = await self._row(session, name)
        if row is not None:
            return self._view(integration, row)
        internal = await self._internal_fields()
        return self._view(integration, None, self._valid_defaults(integration, internal))

    async def credentials(self, name: str) -> dict[str, Any]:
        """The decrypted credentials with the schema's defaults, for the integration's own use
        only; ``{}`` when none are set."""
        integration = self._integration(name)
        async with self._session_factory() as session:
            row = await self._row(session, name)
        if row is None or row.credentials is None:
            return {}
        stored: dict[str, Any] = dict(self._box.decrypt_json(row.credentials))
        schema = integration.credentials_schema
        try:
            declared = {k: v for k, v in stored.items() if k in schema.model_fields}
            model = schema.model_validate(declared)
        except pydantic.ValidationError:
            return stored  # incomplete: what is stored, without the schema's defaults
        return {**stored, **pydantic_core.to_jsonable_python(_reveal(model.model_dump()))}

    async def credential_keys(self, name: str) -> frozenset[str]:
        """The names of the credentials stored for ``name``, never their values."""
        self._integration(name)
        async with self._session_factory() as session:
            row = await self._row(session, name)
        if row is None or row.credentials is None:
            return frozenset()
        stored: dict[str, Any] = dict(self._box.decrypt_json(row.credentials))
        return frozenset(key for key, value in stored.items() if value not in (None, ""))

    async def default_mapping(self, name: str) -> dict[str, list[FieldMapping]]:
        """The mapping ``name`` proposes for the current core and custom fields (unvalidated)."""
        integration = self._integration(name)
        return integration.default_mapping(await self._internal_fields())

    # -- writes ----------------------------------------------------------------------------

    async def _write(
        self,
        integration: BaseIntegration,
        change: Callable[[IntegrationRow], None],
        internal: Mapping[str, FieldSpec] | None = None,
    ) -> IntegrationSettings:
        """Run ``change(row)`` on the stored row (created with defaults when missing)."""
        if internal is None:
            internal = await self._internal_fields()
        for attempt in range(2):
            try:
                async with self._session_factory.begin() as session:
                    # Locked: a token refresh holding the row must not be overwritten with
                    # the credentials read before it saved the rotated refresh token.
                    row = await self._row(session, integration.name, for_update=True)
                    if row is None:
                        defaults = self._valid_defaults(integration, internal)
                        row = IntegrationRow(
                            name=integration.name,
                            enabled=False,
                            settings={},
                            credentials=None,
                            mappings={o: mappings_to_doc(m) for o, m in defaults.items()},
                            conflict_winner="internal",
                        )
                        session.add(row)
                    change(row)
                    row.updated_at = utcnow()
                    await session.flush()
                    return self._view(integration, row)
            except IntegrityError as exc:
                # Two first saves raced on the unique name: the second retries as an update.
                if attempt == 1:
                    raise ConflictError(
                        f"integration {integration.name!r} was changed concurrently; retry",
                        field="name",
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def configure(
        self,
        name: str,
        *,
        settings: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        conflict_winner: ConflictWinner | None = None,
        first_sync_from: datetime | None = None,
    ) -> IntegrationSettings:
        """Change what is given and keep the rest.

        ``settings`` and ``credentials`` are merged into the stored ones (a ``None`` value
        unsets a key) and validated by the integration's schemas; credentials are encrypted.
        Enabling needs complete, valid settings and credentials. Nothing is written on error.
        """
        integration = self._integration(name)
        if conflict_winner is not None and conflict_winner not in _WINNERS:
            raise ValidationError(
                f"conflict_winner must be internal or integration, not {conflict_winner!r}",
                field="conflict_winner",
                value=conflict_winner,
            )
        if first_sync_from is not None and (
            not isinstance(first_sync_from, datetime) or first_sync_from.tzinfo is None
        ):
            raise ValidationError(
                "first_sync_from must be a timezone-aware datetime",
                field="first_sync_from",
                value=first_sync_from,
            )

        def change(row: IntegrationRow) -> None:
            if settings is not None:
                row.settings = _merge(
                    "settings", integration, integration.settings_schema, row.settings, settings
                )
            if credentials is not None:
                stored = self._box.decrypt_json(row.credentials) if row.credentials else {}
                merged = _merge(
                    "credentials",
                    integration,
                    integration.credentials_schema,
                    stored,
                    credentials,
                )
                row.credentials = self._box.encrypt_json(merged) if merged else None
            if enabled is not None:
                row.enabled = enabled
            if row.enabled:
                # An enabled integration must be usable: complete settings and credentials.
                _validate("settings", integration.settings_schema, row.settings)
                creds = self._box.decrypt_json(row.credentials) if row.credentials else {}
                schema = integration.credentials_schema
                declared = {k: v for k, v in creds.items() if k in schema.model_fields}
                _validate("credentials", schema, declared)
            if conflict_winner is not None:
                row.conflict_winner = conflict_winner
            if first_sync_from is not None:
                row.first_sync_from = first_sync_from

        return await self._write(integration, change)

    async def update_credentials(self, name: str, updates: Mapping[str, Any]) -> None:
        """Merge ``updates`` into the stored credentials without schema validation.

        For token stores that persist rotated tokens (keys outside the credentials schema are
        kept as they are); a ``None`` value removes a key.
        """
        integration = self._integration(name)
        try:
            json.dumps(dict(updates))
        except (TypeError, ValueError):
            raise ValidationError(
                "credential updates must be JSON values", field="credentials"
            ) from None

        def change(row: IntegrationRow) -> None:
            stored = self._box.decrypt_json(row.credentials) if row.credentials else {}
            merged = {k: v for k, v in {**stored, **updates}.items() if v is not None}
            row.credentials = self._box.encrypt_json(merged) if merged else None

        await self._write(integration, change)

    def token_store(self, name: str, key: str = "oauth_token") -> SecretBoxTokenStore:
        """A :class:`~leadbridge.auth.TokenStore` keeping ``name``'s OAuth token in its stored
        credentials under ``key`` (encrypted; rotated refresh tokens persist there).

        Providers sharing it — in any number of processes — refresh one at a time: the refresh
        holds the integration's row (``SELECT … FOR UPDATE`` on PostgreSQL, the database write
        lock on SQLite) from reading the stored token to saving the new one.
        """
        self._integration(name)  # fail now, by name, for an unknown integration

        async def load_raw() -> str | None:
            value = (await self.credentials(name)).get(key)
            return value if isinstance(value, str) else None

        async def save_raw(raw: str) -> None:
            await self.update_credentials(name, {key: raw})

        def lock_raw() -> AbstractAsyncContextManager[RawTokenAccess]:
            return self._locked_token(name, key)

        return SecretBoxTokenStore(self._box, load_raw, save_raw, lock_raw=lock_raw)

    @asynccontextmanager
    async def _locked_token(self, name: str, key: str) -> AsyncIterator[RawTokenAccess]:
        """Hold ``name``'s row locked; yield its token's ``(load_raw, save_raw)`` under the lock."""
        integration = self._integration(name)
        for _ in range(2):
            async with self._session_factory.begin() as session:
                row = await self._lock_row(session, name)
                if row is not None:
                    yield self._token_access(session, row, key)
                    return
            # Not yet configured: nothing to lock on PostgreSQL. Create the row as a first save
            # does (rare; raced first saves are retried there), then lock it.
            await self._write(integration, lambda row: None)
        raise AssertionError("unreachable: the row was created")  # pragma: no cover

    async def _lock_row(self, session: AsyncSession, name: str) -> IntegrationRow | None:
        if session.get_bind().dialect.name == "postgresql":
            # Bounded like SQLite's busy timeout: a stuck holder is an error, not a hang.
            await session.execute(text(f"SET LOCAL lock_timeout = '{_TOKEN_LOCK_WAIT}s'"))
        try:
            # On SQLite the transaction's BEGIN IMMEDIATE is the lock, taken here.
            return await self._row(session, name, for_update=True)
        except DBAPIError as exc:
            if not _is_lock_wait(exc):
                raise
            raise RetriableAPIError(
                f"{name}: another process held the OAuth token for over {_TOKEN_LOCK_WAIT} s; retry"
            ) from exc

    def _token_access(self, session: AsyncSession, row: IntegrationRow, key: str) -> RawTokenAccess:
        def stored() -> dict[str, Any]:
            return dict(self._box.decrypt_json(row.credentials)) if row.credentials else {}

        async def load_raw() -> str | None:
            value = stored().get(key)
            return value if isinstance(value, str) else None

        async def save_raw(raw: str) -> None:
            row.credentials = self._box.encrypt_json({**stored(), key: raw})
            row.updated_at = utcnow()
            await session.flush()

        return load_raw, save_raw

    async def set_mapping(
        self, name: str, object_name: str, mappings: Sequence[FieldMapping]
    ) -> IntegrationSettings:
        """Replace the field mappings of one object, after validating every one of them."""
        return await self.set_mappings(name, {object_name: mappings})

    async def set_mappings(
        self, name: str, mappings: Mapping[str, Sequence[FieldMapping]]
    ) -> IntegrationSettings:
        """Replace the field mappings of several objects at once: all are valid or none is saved.

        Refused with :class:`ValidationError` naming the field: an unknown object, an unknown
        field on either side, a direction the integration field does not allow (read-only fields
        only ``to_internal``), a required integration field left unmapped, incompatible types
        (see :data:`TYPE_COMPATIBILITY`), a field mapped twice.
        """
        integration = self._integration(name)
        internal = await self._internal_fields()
        docs = {
            object_name: mappings_to_doc(
                validate_mappings(
                    name, integration.get_object(object_name), object_mappings, internal
                )
            )
            for object_name, object_mappings in mappings.items()
        }

        def change(row: IntegrationRow) -> None:
            row.mappings = {**row.mappings, **docs}

        return await self._write(integration, change, internal)
