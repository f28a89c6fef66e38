"""What an integration declares: features, schemas, objects and their fields."""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar

import pydantic

from .._errors import ConfigurationError, ValidationError
from ..contacts import FieldSpec, FieldType


class Direction(enum.StrEnum):
    """Which way a mapped field's values flow."""

    TO_INTERNAL = "to_internal"
    TO_INTEGRATION = "to_integration"
    BIDIRECTIONAL = "bidirectional"


ALL_DIRECTIONS = frozenset(Direction)


class Feature(enum.StrEnum):
    SYNC_PULL = "sync_pull"
    SYNC_PUSH = "sync_push"
    SEGMENT_FILTERS = "segment_filters"
    POINT_ACTIONS = "point_actions"
    WEBHOOKS = "webhooks"


@dataclass(frozen=True)
class IntegrationField:
    """A field of an integration object.

    ``directions`` are the mapping directions the field allows: a read-only field (the
    integration computes it) is ``frozenset({Direction.TO_INTERNAL})``, a write-only one
    ``frozenset({Direction.TO_INTEGRATION})``. Allowing both one-way directions allows
    ``bidirectional`` too, and the other way round.
    """

    name: str
    label: str
    type: FieldType
    required: bool = False
    unique_identifier: bool = False
    directions: frozenset[Direction] = ALL_DIRECTIONS

    def __post_init__(self) -> None:
        directions = frozenset(Direction(d) for d in self.directions)
        one_way = {Direction.TO_INTERNAL, Direction.TO_INTEGRATION}
        if Direction.BIDIRECTIONAL in directions or one_way <= directions:
            directions = ALL_DIRECTIONS
        if not directions:
            raise ValueError(f"integration field {self.name!r} allows no direction")
        object.__setattr__(self, "directions", directions)
        object.__setattr__(self, "type", FieldType(self.type))

    @property
    def read_only(self) -> bool:
        """True when values only flow from the integration into LeadBridge."""
        return self.directions == {Direction.TO_INTERNAL}

    def widest_direction(self) -> Direction:
        """``bidirectional`` when allowed, else the one direction the field allows."""
        if Direction.BIDIRECTIONAL in self.directions:
            return Direction.BIDIRECTIONAL
        return next(iter(self.directions))


@dataclass(frozen=True)
class ObjectSpec:
    """An object the integration syncs (``people``) and the internal object it maps to."""

    name: str
    label: str
    internal_object: str = "contact"
    fields: tuple[IntegrationField, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))

    def field(self, name: str) -> IntegrationField | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class FieldMapping:
    """``internal_field`` of LeadBridge ↔ ``integration_field`` of one object, one direction."""

    internal_field: str
    integration_field: str
    direction: Direction = Direction.BIDIRECTIONAL

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError as exc:
            raise ValidationError(
                f"direction {self.direction!r} of {self.integration_field!r} is unknown; use "
                + ", ".join(d.value for d in Direction),
                field=self.integration_field,
                value=self.direction,
            ) from exc


class NoCredentials(pydantic.BaseModel):
    """The credentials schema of an integration that needs none."""

    model_config = pydantic.ConfigDict(extra="forbid")


class NoSettings(pydantic.BaseModel):
    """The settings schema of an integration that has no settings."""

    model_config = pydantic.ConfigDict(extra="forbid")


_KEY_RE = re.compile(r"[^a-z0-9]")


def _match_key(name: str) -> str:
    # first_name, firstName and "First name" are one field for default mappings.
    return _KEY_RE.sub("", name.lower())


class BaseIntegration(ABC):
    """Base class of an integration: what it is, what it needs, what it syncs.

    Subclass it, set the class attributes and implement :meth:`objects`::

        class ExampleIntegration(BaseIntegration):
            name = "example"                       # the entry point name, lowercase
            display_name = "Example CRM"
            description = "People from Example CRM."
            icon = "leadbridge_example:icon.svg"   # a file inside your package
            features = frozenset({Feature.SYNC_PULL, Feature.SYNC_PUSH})
            credentials_schema = ExampleCredentials  # pydantic models: bad input gets
            settings_schema = ExampleSettings        # field-level messages

            @override
            def objects(self) -> Sequence[ObjectSpec]:
                return [ObjectSpec("people", "People", fields=(
                    IntegrationField("email", "Email", FieldType.EMAIL,
                                     required=True, unique_identifier=True),
                    IntegrationField("score", "Score", FieldType.NUMBER,
                                     directions=frozenset({Direction.TO_INTERNAL})),
                ))]

    Credentials are stored encrypted and only handed to the integration itself
    (``IntegrationSettingsService.credentials(name)``); settings are plain, validated JSON.
    Both schemas should give every field a default or accept its absence until the user
    configures it. Keep ``__init__`` argument-free or give the arguments through your plugin
    container's ``integration`` provider.

    Optional hook: :meth:`default_mapping`, the mapping proposed before the user changes it.
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    description: ClassVar[str] = ""
    #: ``"package:path/inside/package.svg"``, read with :meth:`icon_bytes`.
    icon: ClassVar[str | None] = None
    features: ClassVar[frozenset[Feature]] = frozenset()
    credentials_schema: ClassVar[type[pydantic.BaseModel]] = NoCredentials
    settings_schema: ClassVar[type[pydantic.BaseModel]] = NoSettings

    @abstractmethod
    def objects(self) -> Sequence[ObjectSpec]:
        """The objects this integration syncs, each with its fields."""

    def default_mapping(
        self, internal_fields: Mapping[str, FieldSpec]
    ) -> dict[str, list[FieldMapping]]:
        """The mapping proposed to the user, by object name.

        The default maps every integration field to the internal field of the same name
        (``first_name``, ``firstName`` and ``First Name`` match), when the types are compatible,
        in the widest direction the field allows. Override it to add mappings that names alone
        cannot find, or call ``super()`` and adjust the result.
        """
        from ._mapping import types_compatible

        by_key = {_match_key(alias): spec for alias, spec in internal_fields.items()}
        result: dict[str, list[FieldMapping]] = {}
        for obj in self.objects():
            if obj.internal_object != "contact":
                continue
            mappings = []
            for f in obj.fields:
                spec = internal_fields.get(f.name) or by_key.get(_match_key(f.name))
                if spec is not None and types_compatible(spec.type, f.type):
                    mappings.append(FieldMapping(spec.alias, f.name, f.widest_direction()))
            result[obj.name] = mappings
        return result

    def get_object(self, name: str) -> ObjectSpec:
        """The object called ``name``; :class:`ValidationError` naming it when there is none."""
        for obj in self.objects():
            if obj.name == name:
                return obj
        known = ", ".join(o.name for o in self.objects()) or "none"
        raise ValidationError(
            f"{self.name} has no object {name!r} (objects: {known})", field="object", value=name
        )

    def icon_bytes(self) -> bytes | None:
        """The icon file's content, or ``None`` when the integration has no icon."""
        if self.icon is None:
            return None
        package, sep, path = self.icon.partition(":")
        if not sep or not package or not path:
            raise ConfigurationError(
                f"icon of {self.name!r} must be 'package:path/icon.svg', not {self.icon!r}"
            )
        try:
            return resources.files(package).joinpath(path).read_bytes()
        except (ModuleNotFoundError, FileNotFoundError) as exc:
            raise ConfigurationError(f"icon of {self.name!r} not found: {self.icon}") from exc

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'name', '?')!r}>"


def check_integration(integration: object, expected_name: str) -> BaseIntegration:
    """Refuse an integration whose declarations are inconsistent; return it typed."""
    if not isinstance(integration, BaseIntegration):
        raise ConfigurationError(
            f"the 'integration' provider gave {type(integration).__name__}, "
            "not a BaseIntegration subclass instance"
        )
    cls = type(integration)
    for attr in ("name", "display_name"):
        if not isinstance(getattr(cls, attr, None), str):
            raise ConfigurationError(f"{cls.__name__} must set the class attribute {attr!r}")
    if integration.name != expected_name:
        raise ConfigurationError(
            f"entry point {expected_name!r} provides an integration named {integration.name!r}"
        )
    for attr in ("credentials_schema", "settings_schema"):
        schema = getattr(cls, attr)
        if not (isinstance(schema, type) and issubclass(schema, pydantic.BaseModel)):
            raise ConfigurationError(f"{cls.__name__}.{attr} must be a pydantic model class")
    unknown = {str(f) for f in cls.features} - {f.value for f in Feature}
    if unknown:
        raise ConfigurationError(f"{cls.__name__}.features has unknown features: {unknown}")
    names: set[str] = set()
    for obj in integration.objects():
        if obj.name in names:
            raise ConfigurationError(f"{cls.__name__} declares object {obj.name!r} twice")
        names.add(obj.name)
        field_names = [f.name for f in obj.fields]
        dupes = sorted({n for n in field_names if field_names.count(n) > 1})
        if dupes:
            raise ConfigurationError(
                f"{cls.__name__} object {obj.name!r} declares fields twice: {', '.join(dupes)}"
            )
    return integration


__all__ = [
    "ALL_DIRECTIONS",
    "BaseIntegration",
    "Direction",
    "Feature",
    "FieldMapping",
    "IntegrationField",
    "NoCredentials",
    "NoSettings",
    "ObjectSpec",
    "check_integration",
]
