"""Definitions of custom contact fields."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._choice import parse_choice
from .._errors import ConflictError, NotFoundError, ValidationError
from ._fields import CORE_FIELDS, FieldSpec, FieldType, check_alias
from ._models import CustomFieldRow


class CustomFieldService:
    """Definitions of custom contact fields."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def define(
        self,
        alias: str,
        type: str | FieldType,
        *,
        label: str | None = None,
        options: Sequence[str] | None = None,
        is_unique_identifier: bool = False,
        is_required: bool = False,
    ) -> FieldSpec:
        check_alias(alias)
        ftype = parse_choice(FieldType, type, field="type", label="field type")
        opts: list[str] | None = None
        if ftype in (FieldType.SELECT, FieldType.MULTISELECT):
            opts = [o.strip() for o in (options or []) if o.strip()]
            if not opts:
                raise ValidationError(
                    f"field {alias!r} of type {ftype.value} needs options", field="options"
                )
            if len(set(opts)) != len(opts):
                raise ValidationError(f"field {alias!r} has duplicate options", field="options")
        elif options:
            raise ValidationError(
                f"field {alias!r}: options only apply to select and multiselect fields",
                field="options",
            )
        row = CustomFieldRow(
            alias=alias,
            label=label or alias.replace("_", " ").capitalize(),
            type=ftype.value,
            options=opts,
            is_unique_identifier=is_unique_identifier,
            is_required=is_required,
        )
        try:
            async with self._session_factory.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            raise ConflictError(f"custom field {alias!r} already exists", field="alias") from exc
        return _spec(row)

    async def list(self) -> list[FieldSpec]:
        async with self._session_factory() as session:
            return await load_custom_fields(session)

    async def get(self, alias: str) -> FieldSpec:
        for spec in await self.list():
            if spec.alias == alias:
                return spec
        raise NotFoundError(f"custom field {alias!r} does not exist")

    async def all_fields(self) -> dict[str, FieldSpec]:
        """Core and custom fields by alias."""
        return {**CORE_FIELDS, **{s.alias: s for s in await self.list()}}


def _spec(row: CustomFieldRow) -> FieldSpec:
    return FieldSpec(
        alias=row.alias,
        label=row.label,
        type=FieldType(row.type),
        is_core=False,
        options=tuple(row.options) if row.options is not None else None,
        is_unique_identifier=row.is_unique_identifier,
        is_required=row.is_required,
        id=row.id,
    )


async def load_custom_fields(session: AsyncSession) -> list[FieldSpec]:
    rows = (await session.scalars(select(CustomFieldRow).order_by(CustomFieldRow.alias))).all()
    return [_spec(r) for r in rows]
