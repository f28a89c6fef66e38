"""The per-row work of bulk contact writes, compiled once per field set and row shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from .._errors import ValidationError
from ._fields import CORE_FIELDS, READ_ONLY_FIELDS, Converter, FieldSpec, converter

_CORE_COLUMNS = tuple(CORE_FIELDS)
#: Where a core field sits in a stored row read as ``(id, email_key, fields, *core columns)``.
_STORED_CORE = {name: 3 + i for i, name in enumerate(_CORE_COLUMNS)}
#: Columns a stored row is read with, before the core fields.
STORED_HEAD = ("id", "email_key", "fields")

Step = tuple[str, Converter, bool]
Reader = Callable[[Sequence[Any]], tuple[Any, ...]]


def _refuse(name: str) -> Converter:
    message = (
        f"{name} cannot be written directly"
        if name in READ_ONLY_FIELDS
        else f"unknown field {name!r}"
    )

    def refuse(value: Any) -> Any:
        raise ValidationError(message, field=name, value=value)

    return refuse


class RowPlan:
    """Validates bulk rows and compares them with stored contacts, compiled per field set.

    One converter per field (chosen by type, see :func:`converter`) is built with the plan;
    each row shape (the tuple of its field names) compiles once into the steps that check
    it, and each written-field set into a reader of the stored values it is compared with.
    Errors are those of the one-contact writes: the first bad field of the row, by name.
    """

    def __init__(self, specs: Mapping[str, FieldSpec]) -> None:
        self._converters = {alias: converter(spec) for alias, spec in specs.items()}
        self._required = frozenset(alias for alias, spec in specs.items() if spec.is_required)
        #: custom fields a new contact must have
        self.required_new = tuple(
            spec.alias for spec in specs.values() if spec.is_required and not spec.is_core
        )
        self._steps: dict[tuple[str, ...], tuple[Step, ...]] = {}
        self._readers: dict[tuple[str, ...], Reader] = {}

    def _compile(self, names: tuple[str, ...]) -> tuple[Step, ...]:
        steps = tuple(
            (name, self._converters.get(name) or _refuse(name), name in self._required)
            for name in names
            if name != "tags"
        )
        self._steps[names] = steps
        return steps

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The normalized values of a row (``tags`` left out) that must name an email; raises
        :class:`ValidationError` for the first field that is wrong."""
        names = tuple(raw)
        steps = self._steps.get(names) or self._compile(names)
        values: dict[str, Any] = {}
        for name, convert, required in steps:
            value = raw[name]
            new = convert(value)
            if new is None and required:
                raise ValidationError(f"{name} is required", field=name, value=value)
            values[name] = new
        if not values.get("email"):
            raise ValidationError("email is required", field="email")
        return values

    def validate_all(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]] | None:
        """What :meth:`validate` gives for each row, a column at a time (one ``map`` per
        field), when the rows share one shape without tags and all are valid; ``None``
        otherwise: validate them one by one then, to learn which fail and why."""
        if not rows:
            return []
        names = tuple(rows[0])
        if "tags" in names or "email" not in names or any(tuple(r) != names for r in rows):
            return None
        steps = self._steps.get(names) or self._compile(names)
        columns: list[list[Any]] = []
        try:
            for name, convert, required in steps:
                column = list(map(convert, map(itemgetter(name), rows)))
                if (required or name == "email") and None in column:
                    return None
                columns.append(column)
        except ValidationError:
            return None
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    def reader(self, names: tuple[str, ...]) -> Reader:
        """For field names, a function from a stored row (``STORED_HEAD`` then the core
        columns) to the stored values of those fields, as a tuple."""
        found = self._readers.get(names)
        if found is not None:
            return found
        core = {name: _STORED_CORE[name] for name in names if name in _STORED_CORE}

        def read(stored: Sequence[Any]) -> tuple[Any, ...]:
            fields = stored[2] or {}
            return tuple(stored[core[name]] if name in core else fields.get(name) for name in names)

        self._readers[names] = read
        return read


def stored_columns() -> tuple[str, ...]:
    """The columns :meth:`RowPlan.reader` reads a stored contact from, in order."""
    return (*STORED_HEAD, *_CORE_COLUMNS)
