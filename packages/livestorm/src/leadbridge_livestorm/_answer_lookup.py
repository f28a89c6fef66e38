"""Reading a registration's form answers, shared by the tolerant models and the fast records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

#: A registration answer: text for text and single-select fields, a list for multi-selects.
FieldValue = str | int | float | bool | list[str] | None


class _Answer(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def value(self) -> FieldValue: ...
    @property
    def custom(self) -> bool: ...


class AnswerLookup:
    """``value``/``answers``/``custom_answers`` over a ``fields`` sequence of answers.

    A mixin with empty ``__slots__``, so both pydantic models and msgspec structs can use it.
    """

    __slots__ = ()

    fields: Sequence[_Answer]

    def value(self, field_id: str) -> FieldValue:
        """The answer to form field ``field_id`` (``None`` when absent)."""
        for answer in self.fields:
            if answer.id == field_id:
                return answer.value
        return None

    @property
    def answers(self) -> dict[str, FieldValue]:
        """Every answer by field id, built-in and custom."""
        return {answer.id: answer.value for answer in self.fields}

    @property
    def custom_answers(self) -> dict[str, FieldValue]:
        """The answers to the organizer's own fields (``custom: true``)."""
        return {answer.id: answer.value for answer in self.fields if answer.custom}
