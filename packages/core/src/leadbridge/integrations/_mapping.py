"""Field mappings: type compatibility, validation, and the stored JSON shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import ValidationError
from ..contacts import FieldSpec, FieldType
from ._base import Direction, FieldMapping, IntegrationField, ObjectSpec

_TEXT_LIKE = frozenset({FieldType.TEXT, FieldType.EMAIL, FieldType.URL, FieldType.PHONE})


def _build_table() -> dict[FieldType, frozenset[FieldType]]:
    pairs: set[tuple[FieldType, FieldType]] = set()
    for a in _TEXT_LIKE:
        for b in _TEXT_LIKE:
            pairs.add((a, b))
    groups = {
        FieldType.NUMBER: {FieldType.NUMBER},
        FieldType.BOOLEAN: {FieldType.BOOLEAN},
        FieldType.DATE: {FieldType.DATE, FieldType.DATETIME},
        FieldType.DATETIME: {FieldType.DATE, FieldType.DATETIME},
        FieldType.SELECT: {FieldType.SELECT},
    }
    for kind, same in groups.items():
        for other in same | _TEXT_LIKE:
            pairs.add((kind, other))
            pairs.add((other, kind))
    pairs.add((FieldType.MULTISELECT, FieldType.MULTISELECT))
    return {t: frozenset(b for a, b in pairs if a == t) for t in FieldType}


#: Which integration types each internal type can be mapped to (the table is symmetric):
#: text-like types (text, email, url, phone) are interchangeable; numbers, booleans and selects
#: go to their own kind or to text; dates and date-times go to each other or to text;
#: multiselects only to multiselects.
TYPE_COMPATIBILITY: Mapping[FieldType, frozenset[FieldType]] = _build_table()


def types_compatible(internal: FieldType, integration: FieldType) -> bool:
    """Whether values of ``internal`` type can be mapped to ``integration`` type and back."""
    return FieldType(integration) in TYPE_COMPATIBILITY[FieldType(internal)]


def _writes_internal(direction: Direction) -> bool:
    return direction in (Direction.TO_INTERNAL, Direction.BIDIRECTIONAL)


def validate_mappings(
    integration_name: str,
    obj: ObjectSpec,
    mappings: Sequence[FieldMapping],
    internal_fields: Mapping[str, FieldSpec],
) -> list[FieldMapping]:
    """Check ``mappings`` of ``obj``; raise :class:`ValidationError` naming the first bad field."""
    if obj.internal_object != "contact":
        raise ValidationError(
            f"{integration_name} object {obj.name!r} maps to internal object "
            f"{obj.internal_object!r}, whose fields core does not know",
            field="object",
            value=obj.name,
        )
    seen: dict[str, FieldMapping] = {}
    writers: dict[str, str] = {}
    for m in mappings:
        if not isinstance(m, FieldMapping):
            raise ValidationError(f"expected a FieldMapping, got {m!r}", field="mappings")
        f: IntegrationField | None = obj.field(m.integration_field)
        if f is None:
            known = ", ".join(x.name for x in obj.fields)
            raise ValidationError(
                f"{integration_name} object {obj.name!r} has no field {m.integration_field!r} "
                f"(fields: {known})",
                field=m.integration_field,
                value=m.integration_field,
            )
        spec = internal_fields.get(m.internal_field)
        if spec is None:
            raise ValidationError(
                f"internal field {m.internal_field!r} (mapped to {m.integration_field!r}) does "
                "not exist: use a core field or define a custom field first",
                field=m.internal_field,
                value=m.internal_field,
            )
        if m.integration_field in seen:
            raise ValidationError(
                f"integration field {m.integration_field!r} is mapped twice",
                field=m.integration_field,
            )
        if m.direction not in f.directions:
            allowed = ", ".join(sorted(d.value for d in f.directions))
            why = " (it is read-only)" if f.read_only else ""
            raise ValidationError(
                f"{m.integration_field!r} cannot be mapped {m.direction.value}{why}; "
                f"allowed: {allowed}",
                field=m.integration_field,
                value=m.direction.value,
            )
        if not types_compatible(spec.type, f.type):
            raise ValidationError(
                f"{m.internal_field!r} ({spec.type.value}) cannot be mapped to "
                f"{m.integration_field!r} ({f.type.value}): incompatible types",
                field=m.integration_field,
                value=m.internal_field,
            )
        if _writes_internal(m.direction):
            other = writers.get(m.internal_field)
            if other is not None:
                raise ValidationError(
                    f"internal field {m.internal_field!r} would be written by both "
                    f"{other!r} and {m.integration_field!r}; map one of them to_integration",
                    field=m.internal_field,
                )
            writers[m.internal_field] = m.integration_field
        seen[m.integration_field] = m
    for f in obj.fields:
        if f.required and f.name not in seen:
            raise ValidationError(
                f"{integration_name} object {obj.name!r} requires field {f.name!r} to be mapped",
                field=f.name,
            )
    return list(seen.values())


def mappings_to_doc(mappings: Sequence[FieldMapping]) -> dict[str, dict[str, str]]:
    """``{integration_field: {"internal_field": ..., "direction": ...}}``, the stored shape."""
    return {
        m.integration_field: {"internal_field": m.internal_field, "direction": m.direction.value}
        for m in mappings
    }


def mappings_from_doc(doc: Mapping[str, Any]) -> dict[str, list[FieldMapping]]:
    return {
        obj: [
            FieldMapping(v["internal_field"], integration_field, Direction(v["direction"]))
            for integration_field, v in fields.items()
        ]
        for obj, fields in doc.items()
    }
