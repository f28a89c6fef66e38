"""What point action types and trigger events share: a key, a label and validated settings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from .._errors import ConfigurationError, ValidationError

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class NoSettings(BaseModel):
    """The settings schema of a type that takes none (any key given is refused)."""

    model_config = ConfigDict(extra="forbid")


def validate_settings(
    schema: type[SettingsT], raw: Mapping[str, Any] | BaseModel | None, prefix: str = "settings"
) -> SettingsT:
    """``raw`` validated against ``schema``; errors name the setting (``settings.min_rate: …``)."""
    if isinstance(raw, schema):
        return raw
    data = raw.model_dump() if isinstance(raw, BaseModel) else raw
    if data is not None and not isinstance(data, Mapping):
        raise ValidationError(
            f"{prefix}: expected an object of settings, got {type(data).__name__}",
            field=prefix,
            value=data,
        )
    try:
        return schema.model_validate(dict(data or {}))
    except pydantic.ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for error in exc.errors():
            where = ".".join(str(part) for part in (prefix, *error["loc"]))
            problems.append((where, error["msg"]))
        message = "; ".join(f"{where}: {msg}" for where, msg in problems)
        raise ValidationError(message, field=problems[0][0], value=data) from exc


class _Configurable(Generic[SettingsT]):
    #: Stable identifier stored with each configured item (``livestorm.attended``).
    key: ClassVar[str]
    #: What people read in lists and forms (``Attended a webinar``).
    label: ClassVar[str]
    #: Longer help, optional.
    description: ClassVar[str] = ""
    #: The pydantic model the configured settings must satisfy.
    settings_schema: type[SettingsT]

    def validate_settings(self, raw: Mapping[str, Any] | BaseModel | None) -> SettingsT:
        """Parse stored or given settings; raises :class:`ValidationError` naming the setting."""
        return validate_settings(self.settings_schema, raw)

    def describe(self) -> dict[str, Any]:
        """Key, label, description and the settings' JSON schema (for forms and ``--json``)."""
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "settings_schema": self.settings_schema.model_json_schema(),
        }


T = TypeVar("T", bound=_Configurable[Any])


class _Registry(Generic[T]):
    """Items by key; a duplicate key is an installation error."""

    kind: ClassVar[str] = "type"

    def __init__(self, items: Sequence[T] = ()) -> None:
        self._items: dict[str, T] = {}
        for item in items:
            self.register(item)

    def register(self, item: T) -> None:
        key = getattr(item, "key", None)
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"{type(item).__name__} has no key")
        if key in self._items:
            raise ConfigurationError(
                f"{self.kind} {key!r} is registered twice "
                f"({type(self._items[key]).__name__} and {type(item).__name__})"
            )
        self._items[key] = item

    def get(self, key: str, field: str = "type") -> T:
        try:
            return self._items[key]
        except KeyError as exc:
            known = ", ".join(sorted(self._items))
            raise ValidationError(
                f"{field}: unknown {self.kind} {key!r}; use one of {known}", field=field, value=key
            ) from exc

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return list(self._items)
