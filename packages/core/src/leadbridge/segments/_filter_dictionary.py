"""The filter dictionary: every filterable field, checked filter lists and their SQL.

A filter is ``{"glue": "and"|"or", "field": key, "operator": op, "value": v}``; AND binds
tighter than OR. Every value reaches the database as a bound parameter; field names only
select entries of the dictionary and never reach the SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from .._errors import ConfigurationError, ValidationError
from ..contacts import ContactRow, FieldSpec
from ._core_filters import SEGMENT_KEY, core_entries, custom_entry
from ._filter_context import FilterContext
from ._filter_field import FilterEntry, FilterField
from ._filter_values import describe_value
from ._operators import OPERATORS, FilterType, canonical_operator
from ._plugin_filter import BaseSegmentFilter

__all__ = ["FilterDictionary", "referenced_segments"]

#: plugin keys carry a namespace (a dot), so no custom field alias can ever take them
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_FILTER_KEYS = frozenset({"glue", "field", "operator", "value"})


class FilterDictionary:
    """Every filterable field: core columns, custom fields by type, tags, segment membership
    (``segment``: ``in``/``!in`` other segments, by alias) and plugin filters.

    Build one per use (custom fields change); :meth:`register` adds a plugin filter.
    """

    def __init__(
        self,
        custom_fields: Iterable[FieldSpec] = (),
        plugin_filters: Iterable[BaseSegmentFilter] = (),
    ) -> None:
        self._entries: dict[str, FilterEntry] = {}
        for entry in core_entries():
            self._entries[entry.field.key] = entry
        for spec in custom_fields:
            if spec.is_core or spec.alias in self._entries:
                continue
            self._entries[spec.alias] = custom_entry(spec)
        for plugin_filter in plugin_filters:
            self.register(plugin_filter)

    def register(self, segment_filter: BaseSegmentFilter) -> None:
        """Add a plugin filter; a clashing key or a malformed declaration is refused."""
        key = getattr(segment_filter, "key", None)
        name = type(segment_filter).__name__
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ConfigurationError(
                f"segment filter {name}: key {key!r} must be namespaced lowercase words joined "
                "by dots, like 'livestorm.attended'"
            )
        if key in self._entries:
            raise ConfigurationError(f"segment filter {name}: key {key!r} is taken")
        filter_type = getattr(segment_filter, "type", None)
        if not isinstance(filter_type, FilterType) or filter_type in (
            FilterType.TAGS,
            FilterType.SEGMENT,
        ):
            raise ConfigurationError(
                f"segment filter {key!r}: type must be a FilterType among "
                + ", ".join(
                    member.value
                    for member in FilterType
                    if member not in (FilterType.TAGS, FilterType.SEGMENT)
                )
            )
        operators = tuple(getattr(segment_filter, "operators", ()) or ())
        wrong = [operator for operator in operators if operator not in OPERATORS[filter_type]]
        if not operators or wrong:
            raise ConfigurationError(
                f"segment filter {key!r}: operators must be a non-empty subset of "
                f"{', '.join(OPERATORS[filter_type])} for type {filter_type.value}"
                + (f" (not {', '.join(wrong)})" if wrong else "")
            )
        field = FilterField(
            key,
            str(getattr(segment_filter, "label", key)),
            filter_type,
            operators,
            choices=tuple(segment_filter.choices) if segment_filter.choices is not None else None,
            group=segment_filter.group,
        )

        def clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
            return segment_filter.clause(ContactRow.__table__.c.id, operator, value, context)

        self._entries[key] = FilterEntry(field, clause, segment_filter.normalize_value)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[FilterField]:
        return (entry.field for entry in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> FilterField | None:
        entry = self._entries.get(key)
        return entry.field if entry is not None else None

    def fields(self) -> list[FilterField]:
        return list(self)

    def validate(
        self, filters: Sequence[Mapping[str, Any]], context: FilterContext
    ) -> list[dict[str, Any]]:
        """Check a filter list and return its normalized form.

        Raises :class:`ValidationError` naming the filter (``filters[i]``), its field and the
        reason: an unknown field, an operator that does not fit the field's type, a value of
        the wrong shape, a malformed relative date.
        """
        if isinstance(filters, str | bytes) or not isinstance(filters, Sequence):
            raise ValidationError("filters must be a list of filters", field="filters")
        return [self._validate_one(index, raw, context) for index, raw in enumerate(filters)]

    def _validate_one(self, index: int, raw: Any, context: FilterContext) -> dict[str, Any]:
        where = f"filters[{index}]"
        if not isinstance(raw, Mapping):
            raise ValidationError(
                f"{where}: expected an object with glue, field, operator and value",
                field=where,
            )
        unknown = sorted(str(k) for k in raw if k not in _FILTER_KEYS)
        if unknown:
            raise ValidationError(
                f"{where}: unknown key {unknown[0]!r} (a filter has glue, field, operator, value)",
                field=f"{where}.{unknown[0]}",
            )
        glue = raw.get("glue", "and")
        if not isinstance(glue, str) or glue.lower() not in ("and", "or"):
            raise ValidationError(
                f"{where}: glue must be 'and' or 'or', got {describe_value(glue)}",
                field=f"{where}.glue",
                value=glue,
            )
        key = raw.get("field")
        entry = self._entries.get(key) if isinstance(key, str) else None
        if entry is None:
            raise ValidationError(
                f"{where}: unknown field {key!r}", field=f"{where}.field", value=key
            )
        field = entry.field
        named = f"{where} (field {field.key!r})"
        operator = raw.get("operator")
        canonical = canonical_operator(operator)
        if canonical is None or canonical not in field.operators:
            kind = "unknown operator" if canonical is None else "operator"
            raise ValidationError(
                f"{named}: {kind} {operator!r} does not apply to a {field.type.value} field; "
                f"use one of {', '.join(field.operators)}",
                field=f"{where}.operator",
                value=operator,
            )
        try:
            value = entry.normalize(canonical, raw.get("value"), context)
        except ValueError as exc:
            raise ValidationError(
                f"{named}, operator {canonical!r}: {exc}",
                field=f"{where}.value",
                value=raw.get("value"),
            ) from exc
        return {"glue": glue.lower(), "field": field.key, "operator": canonical, "value": value}

    def where(
        self, filters: Sequence[Mapping[str, Any]], context: FilterContext
    ) -> ColumnElement[bool]:
        """The SQL condition over ``contacts`` of a filter list (validated again here).

        An empty list matches no contact: a segment without filters holds only the contacts
        added to it by hand.
        """
        groups: list[list[ColumnElement[bool]]] = []
        for item in self.validate(filters, context):
            clause = self._entries[item["field"]].clause(item["operator"], item["value"], context)
            if not groups or item["glue"] == "or":
                groups.append([clause])
            else:
                groups[-1].append(clause)
        if not groups:
            return false()
        return or_(*(and_(*group) for group in groups))


def referenced_segments(filters: Iterable[Mapping[str, Any]]) -> list[str]:
    """Aliases of the segments a (normalized) filter list refers to."""
    out: list[str] = []
    for item in filters:
        if item.get("field") == SEGMENT_KEY and isinstance(item.get("value"), list):
            out.extend(
                alias for alias in item["value"] if isinstance(alias, str) and alias not in out
            )
    return out
