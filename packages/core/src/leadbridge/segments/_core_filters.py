"""The filters core defines: contact columns, custom fields by type, tags, segment membership."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from sqlalchemy import Select, exists, false, func, literal, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement

from ..contacts import ContactRow, ContactTagRow, FieldSpec, FieldType, TagRow
from ._filter_context import FilterContext
from ._filter_field import FilterEntry, FilterField, FilterNormalizer
from ._filter_sql import column_clause
from ._filter_values import normalize_filter_value
from ._models import SegmentMemberRow, SegmentRow
from ._operators import EMPTINESS_OPERATORS, OPERATORS, FilterType

__all__ = [
    "SEGMENT_KEY",
    "TAGS_KEY",
    "core_entries",
    "custom_entry",
    "standard_normalizer",
]

#: Keys of the filters core defines itself; custom fields with these aliases are shadowed.
TAGS_KEY = "tags"
SEGMENT_KEY = "segment"


def standard_normalizer(field: FilterField) -> FilterNormalizer:
    """The checks of ``field``'s type and choices."""

    def normalize(operator: str, value: Any, context: FilterContext) -> Any:
        return normalize_filter_value(field.type, operator, value, context, choices=field.choices)

    return normalize


def _column_entry(
    field: FilterField,
    column: Callable[[], ColumnElement[Any]],
    *,
    nullable: bool = True,
    folded: bool = False,
) -> FilterEntry:
    def clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
        return column_clause(
            column(), field.type, operator, value, context, nullable=nullable, folded=folded
        )

    return FilterEntry(field, clause, standard_normalizer(field))


_CORE_COLUMNS: tuple[tuple[str, str, FilterType, bool], ...] = (
    # key, label, type, nullable
    ("first_name", "First name", FilterType.TEXT, True),
    ("last_name", "Last name", FilterType.TEXT, True),
    ("company", "Company", FilterType.TEXT, True),
    ("phone", "Phone", FilterType.TEXT, True),
    ("city", "City", FilterType.TEXT, True),
    ("country", "Country", FilterType.TEXT, True),
    ("points", "Points", FilterType.NUMBER, False),
    ("created_at", "Created", FilterType.DATETIME, False),
    ("updated_at", "Updated", FilterType.DATETIME, False),
    ("last_active_at", "Last active", FilterType.DATETIME, True),
)

_CUSTOM_TYPES: Mapping[FieldType, FilterType] = {
    FieldType.TEXT: FilterType.TEXT,
    FieldType.EMAIL: FilterType.TEXT,
    FieldType.URL: FilterType.TEXT,
    FieldType.PHONE: FilterType.TEXT,
    FieldType.NUMBER: FilterType.NUMBER,
    FieldType.BOOLEAN: FilterType.BOOLEAN,
    FieldType.DATE: FilterType.DATE,
    FieldType.DATETIME: FilterType.DATETIME,
    FieldType.SELECT: FilterType.SELECT,
    FieldType.MULTISELECT: FilterType.MULTISELECT,
}


def core_entries() -> Iterator[FilterEntry]:
    """Core's own filters: contact columns, tags and segment membership."""
    # email_key is lower(email), written by Python's str.lower: no lower() per row.
    yield _column_entry(
        FilterField("email", "Email", FilterType.TEXT, OPERATORS[FilterType.TEXT]),
        lambda: ContactRow.__table__.c.email_key,
        nullable=False,
        folded=True,
    )
    for key, label, filter_type, nullable in _CORE_COLUMNS:
        yield _column_entry(
            FilterField(key, label, filter_type, OPERATORS[filter_type]),
            _attribute(key),
            nullable=nullable,
        )
    tags = FilterField(TAGS_KEY, "Tags", FilterType.TAGS, OPERATORS[FilterType.TAGS], group="tags")
    yield FilterEntry(tags, _tags_clause, standard_normalizer(tags))
    segment = FilterField(
        SEGMENT_KEY,
        "Segment membership",
        FilterType.SEGMENT,
        OPERATORS[FilterType.SEGMENT],
        group="segments",
    )
    yield FilterEntry(segment, _segment_clause, standard_normalizer(segment))


def _attribute(name: str) -> Callable[[], ColumnElement[Any]]:
    return lambda: ContactRow.__table__.c[name]


def custom_entry(spec: FieldSpec) -> FilterEntry:
    filter_type = _CUSTOM_TYPES[spec.type]
    field = FilterField(
        spec.alias,
        spec.label,
        filter_type,
        OPERATORS[filter_type],
        choices=spec.options
        if filter_type in (FilterType.SELECT, FilterType.MULTISELECT)
        else None,
        group="custom",
    )
    alias = spec.alias
    if filter_type is FilterType.MULTISELECT:
        return FilterEntry(field, partial(_multiselect, alias), standard_normalizer(field))
    if filter_type is FilterType.NUMBER:
        return _column_entry(field, lambda: ContactRow.fields[alias].as_float())
    if filter_type is FilterType.BOOLEAN:
        return _column_entry(field, lambda: ContactRow.fields[alias].as_boolean())
    return _column_entry(field, lambda: ContactRow.fields[alias].as_string())


def _multiselect(
    alias: str, operator: str, value: Any, context: FilterContext
) -> ColumnElement[bool]:
    if context.dialect == "postgresql":
        items = func.jsonb_array_elements_text(ContactRow.fields[alias]).table_valued("value")
    else:
        items = func.json_each(ContactRow.fields, literal(f'$."{alias}"')).table_valued("value")
    if operator in EMPTINESS_OPERATORS:
        some = exists(select(1).select_from(items))
        return ~some if operator == "empty" else some
    hit = exists(
        select(1)
        .select_from(items)
        .where(context.lower(items.c.value).in_([given.lower() for given in value]))
    )
    return hit if operator == "in" else ~hit


def _contact_in(
    ids: Select[Any], link: InstrumentedAttribute[int], context: FilterContext
) -> ColumnElement[bool]:
    """Whether ``contacts.id`` is among the ``ids`` selected (whose contact column is ``link``).

    SQLite runs ``id IN (subquery)`` by building the id list once, the fastest form there;
    PostgreSQL plans a correlated EXISTS as a semi-join and its negation as an anti-join,
    where ``NOT IN (subquery)`` could rescan the subquery for every contact.
    """
    if context.dialect == "postgresql":
        return exists(ids.with_only_columns(literal_column("1")).where(link == ContactRow.id))
    return ContactRow.id.in_(ids)


def _tags_clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
    ids = select(ContactTagRow.contact_id)
    if operator in ("in", "!in"):
        ids = ids.where(ContactTagRow.tag_id.in_(select(TagRow.id).where(TagRow.name.in_(value))))
    tagged = _contact_in(ids, ContactTagRow.contact_id, context)
    return tagged if operator in ("in", "!empty") else ~tagged


def _segment_clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
    # An alias of its own: inside a rebuild's DELETE FROM segment_members, the bare table
    # would correlate to the row being deleted.
    membership = aliased(SegmentMemberRow)
    ids = select(membership.contact_id).where(
        membership.segment_id.in_(select(SegmentRow.id).where(SegmentRow.alias.in_(value))),
        membership.manually_removed == false(),
    )
    member = _contact_in(ids, membership.contact_id, context)
    return member if operator == "in" else ~member
