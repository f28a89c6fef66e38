"""A contacts CSV file read as a stream of rows, each with the line it starts on.

The file is decoded line by line, so a byte the encoding cannot read is named with its line
instead of failing the whole read with a bare ``UnicodeDecodeError``; the header and every row
are checked for shape (duplicated or unnamed columns, more cells than the header has).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import ValidationError

#: What a file without ``--encoding`` is read as (UTF-8, with or without a byte-order mark).
DEFAULT_ENCODING = "utf-8-sig"
_CHUNK = 1 << 16


class CsvFormatError(ValidationError):
    """The file cannot be read as a contacts CSV; ``line`` names where (1 is the header)."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source} line {line}" if line is not None else source
        super().__init__(f"{where}: {message}", field="csv", value=line)
        self.line = line


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One record: the physical line it starts on and its non-blank cells by column."""

    line: int
    values: dict[str, Any]


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise ValidationError(
            f"unknown encoding {encoding!r} (try utf-8, latin-1, cp1252 or utf-16)",
            field="encoding",
            value=encoding,
        ) from exc


class _DecodedLines:
    """The file's text, one physical line at a time; ``line`` is the last one handed out."""

    def __init__(
        self, path: Path, encoding: str, source: str, on_bytes: Callable[[int], None] | None
    ) -> None:
        self._path = path
        self._encoding = encoding
        self._source = source
        self._on_bytes = on_bytes
        self.line = 0

    def _undecodable(self, exc: UnicodeDecodeError, pending: str) -> CsvFormatError:
        bad = exc.object[exc.start : exc.start + 1].hex()
        name = "UTF-8" if self._encoding.startswith("utf-8") else self._encoding
        return CsvFormatError(
            self._source,
            self.line + 1 + pending.count("\n"),
            f"byte 0x{bad} is not valid {name}; give the file's encoding with --encoding "
            "(for example --encoding latin-1 or --encoding cp1252)",
        )

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self._encoding)(errors="strict")
        pending = ""
        done = 0
        with self._path.open("rb") as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if self._on_bytes is not None and chunk:
                    done += len(chunk)
                    self._on_bytes(done)
                try:
                    pending += decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    # Decode again up to the bad byte: the lines before it are fine.
                    good = exc.object[: exc.start].decode(self._encoding, errors="ignore")
                    raise self._undecodable(exc, pending + good) from exc
                *complete, pending = pending.split("\n")
                for text in complete:
                    self.line += 1
                    yield text + "\n"
                if not chunk:
                    break
        if pending:
            self.line += 1
            yield pending


def read_contacts_csv(
    path: Path,
    known: set[str],
    *,
    encoding: str = DEFAULT_ENCODING,
    source: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[CsvRow]:
    """The rows of ``path``, streamed. Raises :class:`CsvFormatError` naming the line for a
    byte the encoding cannot read, an unknown, unnamed or repeated column, a missing
    ``email`` column and a row with more cells than the header. Blank cells are left out
    (an import never erases a stored value with a blank); blank lines are skipped.
    ``known`` holds the column names allowed besides ``tags``; ``on_bytes`` is called with
    the number of bytes read so far after each read (the file's size at the end)."""
    name = source or str(path)
    lines = _DecodedLines(path, _check_encoding(encoding), name, on_bytes)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvFormatError(name, None, "the file is empty; expected a header line")
        columns = [c.strip() for c in header]
        _check_header(columns, known, name)
        width = len(columns)
        start = lines.line + 1
        for cells in reader:
            if not cells:
                start = lines.line + 1
                continue
            if len(cells) > width:
                raise CsvFormatError(
                    name, start, f"{len(cells)} cells where the header has {width} columns"
                )
            yield CsvRow(start, {c: v for c, v in zip(columns, cells, strict=False) if v != ""})
            start = lines.line + 1
    except csv.Error as exc:
        raise CsvFormatError(name, lines.line, f"not readable as CSV: {exc}") from exc


def _check_header(columns: list[str], known: set[str], source: str) -> None:
    seen: set[str] = set()
    for position, column in enumerate(columns, start=1):
        if not column:
            raise CsvFormatError(source, 1, f"column {position} has no name")
        if column in seen:
            raise CsvFormatError(source, 1, f"column {column!r} appears twice")
        seen.add(column)
        if column not in known and column != "tags":
            raise CsvFormatError(
                source,
                1,
                f"unknown column {column!r} (known: core fields, custom field aliases, tags)",
            )
    if "email" not in seen:
        raise CsvFormatError(source, 1, "an 'email' column is required")
