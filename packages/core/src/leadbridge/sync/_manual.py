"""The mapping manual: which integration objects and fields sync with which contact fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .._errors import ConfigurationError, ValidationError
from ..contacts import FieldSpec

#: Direction values; the integration framework's ``Direction`` StrEnum compares equal to them.
TO_INTERNAL = "to_internal"
TO_INTEGRATION = "to_integration"
BIDIRECTIONAL = "bidirectional"
DIRECTIONS = (TO_INTERNAL, TO_INTEGRATION, BIDIRECTIONAL)
WINNERS = ("internal", "integration")


class FieldMappingLike(Protocol):
    """Anything with these three attributes is a field mapping (the integration framework's
    ``FieldMapping`` included)."""

    @property
    def internal_field(self) -> str: ...

    @property
    def integration_field(self) -> str: ...

    @property
    def direction(self) -> str: ...


@dataclass(frozen=True, slots=True)
class MappedField:
    """``internal_field`` ↔ ``integration_field``, synced in ``direction``."""

    internal_field: str
    integration_field: str
    direction: str

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValidationError(
                f"field mapping {self.internal_field} ↔ {self.integration_field}: direction "
                f"{self.direction!r} is unknown; use one of {', '.join(DIRECTIONS)}",
                field="direction",
                value=self.direction,
            )
        # A StrEnum member compares equal but is stored as its plain value.
        object.__setattr__(self, "direction", str(self.direction))

    @property
    def pulls(self) -> bool:
        return self.direction != TO_INTEGRATION

    @property
    def pushes(self) -> bool:
        return self.direction != TO_INTERNAL


@dataclass(frozen=True, slots=True)
class ObjectManual:
    """How one integration object (``people``) maps onto contacts.

    ``unique_identifiers`` are the internal fields used to match an unmapped object to an
    existing contact (compared case-insensitively; ``email`` is supported). ``required`` are
    the internal fields an object must carry for a contact to be created from it.
    """

    object: str
    fields: tuple[MappedField, ...]
    unique_identifiers: tuple[str, ...] = ("email",)
    required: tuple[str, ...] = ("email",)

    def by_internal(self, name: str) -> MappedField | None:
        for f in self.fields:
            if f.internal_field == name:
                return f
        return None

    @property
    def pull_fields(self) -> tuple[MappedField, ...]:
        return tuple(f for f in self.fields if f.pulls)

    @property
    def push_fields(self) -> tuple[MappedField, ...]:
        return tuple(f for f in self.fields if f.pushes)


@dataclass(frozen=True, slots=True)
class MappingManual:
    """Everything the engine needs to know about an integration's mapping.

    ``conflict_winner`` decides exact ties of the judge (a field changed on both sides at the
    very same time); ``first_sync_from`` bounds the first pull (no cursor stored yet).
    """

    integration: str
    objects: tuple[ObjectManual, ...]
    conflict_winner: str = "internal"
    first_sync_from: datetime | None = None

    def __post_init__(self) -> None:
        if self.conflict_winner not in WINNERS:
            raise ValidationError(
                f"conflict winner {self.conflict_winner!r} is unknown; use internal or integration",
                field="conflict_winner",
                value=self.conflict_winner,
            )
        object.__setattr__(self, "conflict_winner", str(self.conflict_winner))
        if not self.integration:
            raise ValidationError("a mapping manual needs the integration's name")
        names = [o.object for o in self.objects]
        if len(set(names)) != len(names):
            raise ValidationError(f"integration {self.integration}: an object is mapped twice")

    @classmethod
    def build(
        cls,
        integration: str,
        mappings: Mapping[str, Iterable[FieldMappingLike | tuple[str, str, str]]],
        *,
        unique_identifiers: tuple[str, ...] = ("email",),
        required: tuple[str, ...] = ("email",),
        conflict_winner: str = "internal",
        first_sync_from: datetime | None = None,
    ) -> MappingManual:
        """A manual from ``{object: [field mapping | (internal, integration, direction)]}``."""
        objects = []
        for obj, items in mappings.items():
            fields = tuple(
                MappedField(*item)
                if isinstance(item, tuple)
                else MappedField(item.internal_field, item.integration_field, item.direction)
                for item in items
            )
            objects.append(ObjectManual(obj, fields, tuple(unique_identifiers), tuple(required)))
        return cls(integration, tuple(objects), conflict_winner, first_sync_from)

    def check(self, specs: Mapping[str, FieldSpec]) -> None:
        """Refuse a manual that cannot work with these contact fields; names the culprit."""
        for obj in self.objects:
            where = f"integration {self.integration}, object {obj.object}"
            if not obj.fields:
                raise ConfigurationError(f"{where}: no field is mapped")
            seen_internal: set[str] = set()
            seen_external: set[str] = set()
            for f in obj.fields:
                if f.internal_field not in specs:
                    raise ConfigurationError(
                        f"{where}: internal field {f.internal_field!r} does not exist"
                    )
                if f.internal_field in seen_internal:
                    raise ConfigurationError(
                        f"{where}: internal field {f.internal_field!r} is mapped twice"
                    )
                if f.integration_field in seen_external:
                    raise ConfigurationError(
                        f"{where}: integration field {f.integration_field!r} is mapped twice"
                    )
                seen_internal.add(f.internal_field)
                seen_external.add(f.integration_field)
            for ident in obj.unique_identifiers:
                if ident != "email":
                    raise ConfigurationError(
                        f"{where}: unique identifier {ident!r} is not supported (use email)"
                    )
                if ident not in seen_internal:
                    raise ConfigurationError(
                        f"{where}: unique identifier {ident!r} must be mapped to match contacts"
                    )
            for name in obj.required:
                if name not in seen_internal:
                    raise ConfigurationError(f"{where}: required field {name!r} is not mapped")

    def to_dict(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "conflict_winner": self.conflict_winner,
            "first_sync_from": self.first_sync_from.isoformat() if self.first_sync_from else None,
            "objects": [
                {
                    "object": o.object,
                    "unique_identifiers": list(o.unique_identifiers),
                    "required": list(o.required),
                    "fields": [
                        {
                            "internal_field": f.internal_field,
                            "integration_field": f.integration_field,
                            "direction": f.direction,
                        }
                        for f in o.fields
                    ],
                }
                for o in self.objects
            ],
        }
