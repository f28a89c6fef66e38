"""What a bulk upsert does with the rows it cannot write."""

from __future__ import annotations

from enum import StrEnum


class OnRowError(StrEnum):
    """``SKIP`` writes the valid rows and reports the others in ``result.errors``;
    ``RAISE`` writes nothing when any row is invalid."""

    SKIP = "skip"
    RAISE = "raise"
