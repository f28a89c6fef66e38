"""Reading one member of a string enum from what a caller gave, with the error users see."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from ._errors import ValidationError

E = TypeVar("E", bound=StrEnum)


def parse_choice(choices: type[E], value: str, *, field: str, label: str | None = None) -> E:
    """``value`` as a member of ``choices``, or a :class:`ValidationError` that names ``label``
    (default: ``field``), the value, and every accepted spelling."""
    try:
        return choices(value)
    except ValueError as exc:
        raise ValidationError(
            f"{label or field} {value!r} is unknown; use one of "
            + ", ".join(member.value for member in choices),
            field=field,
            value=value,
        ) from exc
