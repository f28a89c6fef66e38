"""The value normalizer's converters, chosen once per field by type: values a source already
typed take the short path and come out as the generic rules would give them."""

from __future__ import annotations

from typing import Any

import pytest

from leadbridge import ValidationError
from leadbridge.contacts import CORE_FIELDS, FieldSpec, FieldType
from leadbridge.sync import ValueNormalizer

SPECS = {
    **CORE_FIELDS,
    "score": FieldSpec("score", "Score", FieldType.NUMBER, False),
    "vip": FieldSpec("vip", "VIP", FieldType.BOOLEAN, False),
    "size": FieldSpec("size", "Size", FieldType.SELECT, False, ("s", "m")),
    "notes": FieldSpec("notes", "Notes", FieldType.TEXT, False),
}


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("score", 7, 7),  # an int the source typed is stored as it is
        ("score", "7", 7),
        ("score", 0, None),  # … unless the source calls it "no value"
        ("vip", True, True),
        ("vip", False, None),  # False == 0, one of this source's null values
        ("vip", "yes", True),
        ("email", " Ann@Example.com ", "Ann@Example.com"),
        ("email", "N/A", None),
        ("email", "", None),
        ("size", " m ", "m"),
        ("notes", "  " + "long " * 200, ("long " * 200).strip()),  # no length limit
        ("notes", "   ", None),
        ("first_name", 12, "12"),  # not a string: the generic rule
    ],
)
def test_typed_values_take_the_short_path_to_the_same_result(
    field: str, value: Any, stored: Any
) -> None:
    normalizer = ValueNormalizer(SPECS, null_values={0, "N/A"})
    assert normalizer.converter(field)(value) == stored
    assert type(normalizer.normalize(field, value)) is type(stored)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "email"),
        ("phone", "call me", "phone"),
        ("size", "xl", "size"),
        ("score", True, "score"),  # a bool is no number, typed or not
        ("vip", 7, "vip"),
    ],
)
def test_bad_values_still_fail_naming_the_field(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ValueNormalizer(SPECS).normalize(field, value)
