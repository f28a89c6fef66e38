"""Contact data a plugin contributes to API clients: a list of rows per contact."""

from __future__ import annotations

import enum
import keyword
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from .._errors import ConfigurationError


class ColumnType(enum.StrEnum):
    """The value types a contact data column can have."""

    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATETIME = "datetime"

    @property
    def python_type(self) -> type:
        """The Python type of the values (``datetime`` values are timezone-aware, UTC)."""
        return _PYTHON_TYPES[self]


_PYTHON_TYPES: dict[ColumnType, type] = {
    ColumnType.TEXT: str,
    ColumnType.INTEGER: int,
    ColumnType.FLOAT: float,
    ColumnType.BOOLEAN: bool,
    ColumnType.DATETIME: datetime,
}


@dataclass(frozen=True)
class DataColumn:
    """One column of a contact data row: ``attendance_rate``, an integer, nullable.

    ``name`` is snake_case: it is the key of the row mappings :meth:`BaseContactData.load`
    returns, and the gateway publishes it in camelCase (``attendanceRate``).
    """

    name: str
    type: ColumnType
    description: str = ""
    nullable: bool = True

    def __post_init__(self) -> None:
        # A clear message for a misspelt type, checked again with the plugin's name later.
        try:
            object.__setattr__(self, "type", ColumnType(self.type))
        except ValueError as exc:
            known = ", ".join(t.value for t in ColumnType)
            raise ConfigurationError(
                f"column {self.name!r} has the type {self.type!r}; use one of {known}"
            ) from exc


class BaseContactData(ABC):
    """Rows of data a plugin holds about each contact, published on the API's ``Contact``.

    Subclass it, set the class attributes and implement :meth:`load`; hand an instance to
    core through your plugin container's ``contact_data`` provider (a list). The GraphQL
    gateway adds the field ``Contact.<name>: [<type_name>!]!`` with one field per column::

        class Registrations(BaseContactData):
            name = "exampleRegistrations"            # camelCase, unique across plugins
            type_name = "ExampleRegistration"        # PascalCase, unique in the schema
            description = "The contact's registrations in Example."
            integration = "example"                  # your plugin's name
            columns = (
                DataColumn("event_title", ColumnType.TEXT, "The event.", nullable=False),
                DataColumn("attended", ColumnType.BOOLEAN, nullable=False),
                DataColumn("registered_at", ColumnType.DATETIME),
            )

            @override
            async def load(
                self, session: AsyncSession, contact_ids: Sequence[int]
            ) -> Mapping[int, Sequence[Mapping[str, Any]]]:
                rows = (await session.execute(
                    select(RegRow.contact_id, RegRow.event_title, RegRow.attended,
                           RegRow.registered_at)
                    .where(RegRow.contact_id.in_(contact_ids))
                    .order_by(RegRow.contact_id, RegRow.registered_at.desc())
                )).mappings()
                out: dict[int, list[Mapping[str, Any]]] = {}
                for row in rows:
                    out.setdefault(row["contact_id"], []).append(row)
                return out

    :meth:`load` is called with a whole page of contacts at once (up to a few hundred ids):
    read them with one set-based query (or a constant number), never one per contact. The
    rows must carry every column by name, with values of the column's type (``None`` only
    in nullable columns); extra keys are ignored. Contacts without rows may be left out.

    The gateway shows the field to tokens with both ``contacts:read`` and
    ``integrations:read``. Names and types are checked when the plugin loads
    (:func:`check_contact_data`): a mistake fails startup with a message naming the plugin
    and the field.
    """

    #: The field name on ``Contact``: camelCase, e.g. ``livestormRegistrations``.
    name: ClassVar[str]
    #: The name of the row type: PascalCase, e.g. ``LivestormRegistration``.
    type_name: ClassVar[str]
    description: ClassVar[str] = ""
    #: The name of the integration whose data this is (the plugin's name).
    integration: ClassVar[str]
    columns: ClassVar[tuple[DataColumn, ...]] = ()

    @abstractmethod
    async def load(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> Mapping[int, Sequence[Mapping[str, Any]]]:
        """The rows of each of ``contact_ids``, in the order clients should see them."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'name', '?')!r}>"


_FIELD_NAME = re.compile(r"[a-z][A-Za-z0-9]*")
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
_COLUMN_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def check_contact_data(item: object, plugin: str) -> BaseContactData:
    """Refuse contact data whose declarations cannot make an API field; return it typed.

    ``plugin`` is the name of the plugin providing ``item``, for the messages (and the value
    its ``integration`` attribute must have).
    """
    if not isinstance(item, BaseContactData):
        raise ConfigurationError(
            f"plugin {plugin!r}: contact_data must hold BaseContactData instances, "
            f"not {type(item).__name__}"
        )
    cls = type(item)
    where = f"plugin {plugin!r}: contact data {cls.__name__}"
    for attr in ("name", "type_name", "integration"):
        if not isinstance(getattr(cls, attr, None), str):
            raise ConfigurationError(f"{where} must set the class attribute {attr!r} (a string)")
    if not _FIELD_NAME.fullmatch(item.name):
        raise ConfigurationError(
            f"{where}: name {item.name!r} must be camelCase (letters and digits, "
            "starting with a lowercase letter)"
        )
    where = f"plugin {plugin!r}: contact data {item.name!r}"
    if not _TYPE_NAME.fullmatch(item.type_name):
        raise ConfigurationError(
            f"{where}: type_name {item.type_name!r} must be PascalCase (letters and digits, "
            "starting with an uppercase letter)"
        )
    if item.integration != plugin:
        raise ConfigurationError(
            f"{where}: integration is {item.integration!r}, but the plugin is {plugin!r}"
        )
    if not isinstance(cls.columns, tuple) or not cls.columns:
        raise ConfigurationError(f"{where} must declare its columns (a non-empty tuple)")
    seen: set[str] = set()
    for column in cls.columns:
        if not isinstance(column, DataColumn):
            raise ConfigurationError(
                f"{where}: columns must be DataColumn instances, not {type(column).__name__}"
            )
        if not _COLUMN_NAME.fullmatch(column.name) or keyword.iskeyword(column.name):
            raise ConfigurationError(
                f"{where}: column {column.name!r} must be snake_case "
                "(lowercase letters, digits and single underscores)"
            )
        if column.name in seen:
            raise ConfigurationError(f"{where} declares the column {column.name!r} twice")
        seen.add(column.name)
        if not isinstance(column.type, ColumnType):
            raise ConfigurationError(f"{where}: column {column.name!r} has no ColumnType")
    return item


def check_unique(items: Iterable[tuple[str, BaseContactData]]) -> None:
    """Refuse two ``(plugin, item)`` that use the same field name or type name."""
    names: dict[str, str] = {}
    types: dict[str, str] = {}
    for plugin, item in items:
        for attr, taken in (("name", names), ("type_name", types)):
            value = getattr(item, attr)
            if value in taken:
                raise ConfigurationError(
                    f"plugin {plugin!r}: contact data {attr} {value!r} is already used by "
                    f"plugin {taken[value]!r}"
                )
            taken[value] = plugin


__all__ = [
    "BaseContactData",
    "ColumnType",
    "DataColumn",
    "check_contact_data",
    "check_unique",
]
