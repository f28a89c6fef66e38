"""One normalizer for every value a pull brings in."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from .._errors import ValidationError
from ..contacts import FieldSpec, FieldType, normalize_value

#: Zero dates some sources send for "no date".
_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00 00:00:00", "0000-00-00T00:00:00Z"})


class ValueNormalizer:
    """Turns a source's raw values into LeadBridge's stored forms, field by field.

    On top of the contact store's rules (:func:`leadbridge.contacts.normalize_value`: strings
    trimmed, emails and URLs checked, numbers to int/float, booleans from yes/no/true/false/1/0,
    dates to ``YYYY-MM-DD``, date-times to UTC ``YYYY-MM-DDTHH:MM:SSZ``, selects checked against
    their options) it applies the source's conventions: ``None``, empty strings and the
    exchange's ``null_values`` mean "no value"; zero dates (``0000-00-00``) are no date;
    date-times may come as epoch seconds; multiselects may come as a list or a string joined by
    ``,`` or ``|``. A bad value raises :class:`~leadbridge.ValidationError` naming the field.
    """

    def __init__(
        self, specs: Mapping[str, FieldSpec], *, null_values: Collection[Any] = ()
    ) -> None:
        self._specs = specs
        self._nulls = frozenset(v for v in null_values if v.__hash__ is not None)
        self._fns: dict[str, Callable[[Any], Any]] = {}

    def normalize(self, field: str, value: Any) -> Any:
        fn = self._fns.get(field)
        if fn is None:
            fn = self._fns[field] = self._build(field)
        return fn(value)

    def converter(self, field: str) -> Callable[[Any], Any]:
        """The normalizing function of one field (resolved once; use it in loops)."""
        fn = self._fns.get(field)
        if fn is None:
            fn = self._fns[field] = self._build(field)
        return fn

    def _build(self, field: str) -> Callable[[Any], Any]:
        spec = self._specs.get(field)
        if spec is None:
            raise ValidationError(f"unknown field {field!r}", field=field)
        nulls = self._nulls
        kind = spec.type

        def convert(value: Any) -> Any:
            if value is None or value == "":
                return None
            if nulls and value.__hash__ is not None and value in nulls:
                return None
            if kind is FieldType.DATE or kind is FieldType.DATETIME:
                if isinstance(value, str) and value.strip() in _ZERO_DATES:
                    return None
                if (
                    kind is FieldType.DATETIME
                    and isinstance(value, int | float)
                    and not isinstance(value, bool)
                ):
                    try:
                        value = datetime.fromtimestamp(value, UTC)
                    except (OverflowError, OSError, ValueError) as exc:
                        raise ValidationError(
                            f"{field}: {value!r} is not a valid epoch time",
                            field=field,
                            value=value,
                        ) from exc
            elif kind is FieldType.MULTISELECT and isinstance(value, str) and "|" in value:
                value = value.split("|")
            return normalize_value(spec, value)

        return _typed(spec, nulls, convert)


#: Types whose values a source sends as text: a ``str`` goes straight to the type's rule.
_TEXTUAL = frozenset({FieldType.EMAIL, FieldType.URL, FieldType.PHONE, FieldType.SELECT})


def _typed(
    spec: FieldSpec, nulls: frozenset[Any], convert: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """The converter of one field, chosen once by its type: the value a source usually sends
    (already a ``str``, ``int`` or ``bool``) takes a short path, anything else ``convert``."""
    kind, limit = spec.type, spec.max_length
    if kind is FieldType.TEXT:
        # The hot path of most pulls: plain text, no conversion beyond trimming.
        def text(value: Any) -> Any:
            if type(value) is str:
                stripped = value.strip()
                if not stripped or (nulls and value in nulls):
                    return None
                if limit is None or len(stripped) <= limit:
                    return stripped
            return convert(value)

        return text
    if kind in _TEXTUAL:

        def textual(value: Any) -> Any:
            if type(value) is str:
                if not value or (nulls and value in nulls):
                    return None
                return normalize_value(spec, value)
            return convert(value)

        return textual
    if kind is FieldType.NUMBER or kind is FieldType.BOOLEAN:
        # A value the source typed already (an int for a number, a bool for a boolean) is
        # stored as it is: there is nothing to parse.
        exact = int if kind is FieldType.NUMBER else bool

        def typed(value: Any) -> Any:
            if type(value) is exact and not (nulls and value in nulls):
                return value
            return convert(value)

        return typed
    return convert
