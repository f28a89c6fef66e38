"""How far a CSV import has got, for progress bars."""

from __future__ import annotations

import enum
from typing import Protocol


class ContactImportPhase(enum.StrEnum):
    """The passes of an import: every row is checked, then the file is written."""

    CHECK = "check"
    WRITE = "write"


class ContactImportProgress(Protocol):
    """Called as an import reads its file: ``done`` of ``total`` bytes read in ``phase``.

    Counted in bytes (the file's size is known up front), so a bar has a total and an
    estimate of the time left without a pass to count rows first. Called after each batch
    of rows and once at the end of each phase, with ``done == total``.
    """

    def __call__(self, phase: ContactImportPhase, done: int, total: int) -> None: ...
