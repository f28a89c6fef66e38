"""Cutting long id lists into statement-sized pieces."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Largest ``IN`` list per statement: far below SQLite's (32,766) and asyncpg's (32,767)
#: parameter limits, large enough that a statement's round trip is not the cost.
IN_LIST_SIZE = 2000


def chunked(items: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]
