"""Import contacts from a CSV file: validate the whole file, then write it in committed batches.

A first pass reads the file as a stream and checks every row (values, repeated emails, required
fields of new contacts) without writing; any error refuses the file and nothing is written. A
second pass writes it ``batch_size`` rows per transaction, so another writer (the gateway, a
sync) gets SQLite's write lock between batches instead of waiting for the whole file. Memory
stays flat in the file's size: rows are held a batch at a time, and the emails already seen
live in a private temporary SQLite file, not in memory.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import LeadBridgeError, ValidationError
from ._contact_service import ContactService, _tag_list
from ._csv_progress import ContactImportPhase, ContactImportProgress
from ._csv_reader import DEFAULT_ENCODING, CsvRow, read_contacts_csv
from ._custom_field_service import load_custom_fields
from ._fields import CORE_FIELDS, FieldSpec, email_key
from ._models import ContactRow
from ._on_row_error import OnRowError
from ._row_plan import RowPlan

#: Rows written per transaction.
DEFAULT_BATCH_SIZE = 5000
#: Row errors named in the message when a file is refused.
_NAMED_ERRORS = 5


class ContactImportInterruptedError(LeadBridgeError):
    """The write pass stopped after ``written`` rows were committed (a busy database, a
    concurrent change). Retriable: running the same import again finishes it, since rows are
    matched by email."""

    code = "IMPORT_INTERRUPTED"

    def __init__(self, message: str, *, written: int, line: int, busy: bool) -> None:
        super().__init__(message)
        self.written = written
        self.line = line
        #: the database was locked by another writer (SQLite's busy timeout ran out)
        self.busy = busy


@dataclass
class ContactImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    batches: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "batches": self.batches,
        }


@dataclass
class _Problems:
    source: str
    found: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.found) < _NAMED_ERRORS:
            self.found.append(f"line {line}: {message}")

    def raise_if_any(self) -> None:
        if not self.count:
            return
        more = f" (and {self.count - len(self.found)} more)" if self.count > len(self.found) else ""
        raise ValidationError(
            f"{self.source} {'; '.join(self.found)}{more}; nothing was written", field="csv"
        )


class _SeenEmails:
    """Email keys already read and their line, in a private temporary SQLite file."""

    def __init__(self) -> None:
        # An empty name is a private on-disk database SQLite deletes on close.
        self._db = sqlite3.connect("")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER NOT NULL)")

    def close(self) -> None:
        self._db.close()

    def repeated(self, batch: dict[str, int]) -> dict[str, int]:
        """Keys of ``batch`` (key → line) seen in an earlier batch, with that line; then
        remembers the batch."""
        found: dict[str, int] = {}
        keys = list(batch)
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            found.update(
                self._db.execute(f"SELECT key, line FROM seen WHERE key IN ({marks})", part)
            )
        self._db.executemany(
            "INSERT OR IGNORE INTO seen VALUES (?, ?)", ((k, v) for k, v in batch.items())
        )
        return found


def _batches(rows: Iterator[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    while batch := list(islice(rows, size)):
        yield batch


class _Meter:
    """Bytes of the file read so far in one phase, reported after each batch."""

    def __init__(
        self, path: Path, phase: ContactImportPhase, progress: ContactImportProgress | None
    ) -> None:
        self.total = path.stat().st_size
        self.done = 0
        self._phase = phase
        self._progress = progress

    def read(self, done: int) -> None:
        self.done = done

    def report(self, *, finished: bool = False) -> None:
        if self._progress is not None:
            self._progress(self._phase, self.total if finished else self.done, self.total)


class ContactCsvImport:
    """Import one CSV file: :meth:`check` validates it, :meth:`run` checks then writes."""

    def __init__(
        self,
        contacts: ContactService,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._contacts = contacts
        self._session_factory = session_factory
        self._batch_size = batch_size

    async def _specs(self) -> dict[str, FieldSpec]:
        async with self._session_factory() as session:
            return {**CORE_FIELDS, **{s.alias: s for s in await load_custom_fields(session)}}

    async def check(
        self,
        path: Path,
        specs: dict[str, FieldSpec] | None = None,
        *,
        encoding: str = DEFAULT_ENCODING,
        source: str | None = None,
        progress: ContactImportProgress | None = None,
    ) -> int:
        """Validate every row; raise :class:`ValidationError` naming the lines, or return the
        number of rows. ``specs`` (core and custom fields by alias) are read when not given;
        ``progress`` hears how far the pass has read."""
        specs = specs if specs is not None else await self._specs()
        name = source or str(path)
        problems = _Problems(name)
        plan = RowPlan(specs)
        meter = _Meter(path, ContactImportPhase.CHECK, progress)
        seen = _SeenEmails()
        rows = 0
        try:
            rows_iter = read_contacts_csv(
                path, set(specs), encoding=encoding, source=name, on_bytes=meter.read
            )
            for batch in _batches(rows_iter, self._batch_size):
                rows += len(batch)
                keys: dict[str, int] = {}
                incomplete: dict[str, tuple[int, str]] = {}
                checked = plan.validate_all([row.values for row in batch])
                for i, row in enumerate(batch):
                    values = checked[i] if checked is not None else None
                    found = self._check_row(row, plan, values, problems, keys)
                    if found is None:
                        continue
                    key, values = found
                    keys[key] = row.line
                    missing = [a for a in plan.required_new if values.get(a) is None]
                    if missing:
                        incomplete[key] = (row.line, missing[0])
                for key, earlier in seen.repeated(keys).items():
                    problems.add(keys[key], f"email {key!r} already appears on line {earlier}")
                await self._check_new(incomplete, problems)
                meter.report()
                # A pass over a large file is long CPU work: let the event loop's other tasks
                # (a server's requests, when the SDK runs the import) in between batches.
                await asyncio.sleep(0)
        finally:
            seen.close()
        problems.raise_if_any()
        meter.report(finished=True)
        return rows

    @staticmethod
    def _check_row(
        row: CsvRow,
        plan: RowPlan,
        values: dict[str, Any] | None,
        problems: _Problems,
        keys: dict[str, int],
    ) -> tuple[str, dict[str, Any]] | None:
        """The row's email key and values (``values`` when its batch validated at once), or
        ``None`` after recording what is wrong with it."""
        if values is None:
            try:
                _tag_list(row.values.get("tags"))
                values = plan.validate(row.values)
            except ValidationError as exc:
                problems.add(row.line, exc.message)
                return None
        key = email_key(values["email"])
        if key in keys:
            problems.add(row.line, f"email {key!r} already appears on line {keys[key]}")
            return None
        return key, values

    async def _check_new(self, incomplete: dict[str, tuple[int, str]], problems: _Problems) -> None:
        """Rows without a required custom field are fine for stored contacts only."""
        if not incomplete:
            return
        async with self._session_factory() as session:
            stored = set(
                (
                    await session.scalars(
                        select(ContactRow.email_key).where(ContactRow.email_key.in_(incomplete))
                    )
                ).all()
            )
        for key, (line, alias) in incomplete.items():
            if key not in stored:
                problems.add(line, f"{alias} is required for a new contact")

    async def run(
        self,
        path: Path,
        specs: dict[str, FieldSpec] | None = None,
        *,
        encoding: str = DEFAULT_ENCODING,
        source: str | None = None,
        progress: ContactImportProgress | None = None,
    ) -> ContactImportResult:
        """Validate the whole file (nothing written on error), then write it a batch per
        transaction. A batch that cannot be written raises
        :class:`ContactImportInterruptedError` with the rows already committed. ``progress``
        hears how far each pass has read."""
        name = source or str(path)
        specs = specs if specs is not None else await self._specs()
        await self.check(path, specs, encoding=encoding, source=name, progress=progress)
        result = ContactImportResult()
        meter = _Meter(path, ContactImportPhase.WRITE, progress)
        rows_iter = read_contacts_csv(
            path, set(specs), encoding=encoding, source=name, on_bytes=meter.read
        )
        for batch in _batches(rows_iter, self._batch_size):
            try:
                written = await self._contacts.bulk_upsert(
                    [r.values for r in batch], source="import", on_error=OnRowError.RAISE
                )
            except (DBAPIError, LeadBridgeError) as exc:
                raise _interrupted(name, batch[0].line, result.rows, exc) from exc
            result.rows += len(batch)
            result.batches += 1
            result.created += written.created
            result.updated += written.updated
            result.unchanged += written.unchanged
            meter.report()
        meter.report(finished=True)
        return result


def _interrupted(
    source: str, line: int, written: int, exc: DBAPIError | LeadBridgeError
) -> ContactImportInterruptedError:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    busy = isinstance(exc, DBAPIError) and "locked" in detail.lower()
    reason = (
        "the database is busy: another process held SQLite's write lock past the busy timeout"
        if busy
        else detail
    )
    return ContactImportInterruptedError(
        f"{source}: stopped at line {line} after {written:,} rows were written: {reason}; "
        "run the same import again to finish it (rows are matched by email, so repeating "
        "it is safe)",
        written=written,
        line=line,
        busy=busy,
    )
