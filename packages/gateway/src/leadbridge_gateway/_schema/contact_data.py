"""Fields plugins add to ``Contact`` (``livestormRegistrations`` …), from core's contact data.

Each :class:`~leadbridge.integrations.BaseContactData` becomes a row type built from its
columns and a list field on ``Contact`` resolved through a per-request DataLoader: one
``load`` per request and field, whatever the number of contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.exceptions import DuplicatedTypeName
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from leadbridge import ConfigurationError, Scope
from leadbridge.integrations import BaseContactData

from .._context import GatewayContext
from .contacts import Contact

Ctx = Info[GatewayContext, None]

#: The scopes a plugin-provided field needs: the contact, and integration data about it.
SCOPES = (Scope.CONTACTS_READ, Scope.INTEGRATIONS_READ)


#: The attribute of a row type that holds its contact data, to name it in errors.
_SOURCE = "__contact_data__"


def _row_type(source: BaseContactData) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "__module__": __name__,
        _SOURCE: source,
    }
    for column in source.columns:
        python_type = column.type.python_type
        annotations[column.name] = python_type | None if column.nullable else python_type
        namespace[column.name] = strawberry.field(description=column.description or None)
    return strawberry.type(
        type(source.type_name, (), namespace),
        name=source.type_name,
        description=f"One item of `Contact.{source.name}` ({source.integration}).",
    )


def _field(source: BaseContactData) -> StrawberryField:
    row_type = _row_type(source)
    names = [c.name for c in source.columns]
    what = f"Contact.{source.name}"

    async def resolve(root: Contact, info: Ctx) -> list[Any]:
        for scope in SCOPES:
            await info.context.require(scope, what)
        rows = await info.context.loaders.contact_data(source).load(root.pk)
        return [row_type(**{name: row[name] for name in names}) for row in rows]

    description = source.description or f"Data of the {source.integration} integration."
    field: StrawberryField = strawberry.field(
        resolver=resolve,
        name=source.name,
        # contacts:read goes without saying on Contact.
        description=f"{description.rstrip('.')} (needs `{Scope.INTEGRATIONS_READ.value}`).",
        graphql_type=list[row_type],  # type: ignore[valid-type]
    )
    field.python_name = source.name
    return field


def contact_fields(sources: Sequence[BaseContactData]) -> list[StrawberryField]:
    """A ``Contact`` field per item, refusing a name ``Contact`` already has."""
    definition = Contact.__strawberry_definition__  # type: ignore[attr-defined]
    converter = StrawberryConfig().name_converter
    taken = {converter.get_graphql_name(f) for f in definition.fields}
    fields = []
    for source in sources:
        if source.name in taken:
            raise ConfigurationError(
                f"plugin {source.integration!r}: contact data {source.name!r} is the name "
                "of a field Contact already has"
            )
        taken.add(source.name)
        fields.append(_field(source))
    return fields


def type_clash(exc: DuplicatedTypeName) -> ConfigurationError:
    """The error to raise when a row type's name is taken (``exc``: Strawberry's)."""
    for cls in (exc.first_cls, exc.second_cls):
        source = getattr(cls, _SOURCE, None)
        if isinstance(source, BaseContactData):
            return ConfigurationError(
                f"plugin {source.integration!r}: contact data {source.name!r} names its type "
                f"{source.type_name!r}, a type the schema already has"
            )
    return ConfigurationError(f"the schema defines a type twice: {exc}")
