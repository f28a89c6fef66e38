"""Writes of many rows at once: ``COPY`` on PostgreSQL, one driver executemany elsewhere.

SQLAlchemy's executemany builds a parameter dictionary per row and runs every column's bind
processor per value, and PostgreSQL then executes the statement once per row. Past a few
hundred rows a page, that is most of a sync's time. :class:`BulkInsert` and
:class:`BulkUpdate` compile their statement once per dialect and take rows as plain tuples;
on PostgreSQL, from :data:`COPY_THRESHOLD` rows, the rows travel by ``COPY`` (asyncpg's
``copy_records_to_table``) — straight into the table for a plain insert, into a temporary
staging table for an upsert or an update, which one ``INSERT … SELECT … ON CONFLICT`` or
``UPDATE … FROM`` then applies.

Both run on the session's own connection, inside its transaction, and never commit. Values
are what the columns' Python types take (aware datetimes, dicts for JSON…): each column
type's bind processing is applied here, so stored bytes are what the ORM would store. A
constraint violation raises :class:`sqlalchemy.exc.IntegrityError` on every path.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import Dialect, Table, bindparam, select, update
from sqlalchemy import column as column_clause
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert

#: Rows from which PostgreSQL gets a ``COPY`` rather than an executemany.
COPY_THRESHOLD = 100

#: Adds the conflict clause to the dialect's insert (``.on_conflict_do_update(…)``, which may
#: use ``.excluded``); the same function serves the executemany and the staged statement.
OnConflict = Callable[[Insert], Insert]

Row = Sequence[Any]
_Process = Callable[[Any], Any]


def _insert(dialect: Dialect, table: Table) -> Insert:
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _processors(
    dialect: Dialect, table: Table, columns: Sequence[str]
) -> list[tuple[int, _Process]]:
    """``(position, processor)`` of the columns whose type processes bound values."""
    found: list[tuple[int, _Process]] = []
    for at, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((at, process))
    return found


def _repeating(process: _Process) -> _Process:
    """``process`` that reuses its last result for the same object again: a batch's rows
    share their timestamps, and SQLite's datetime processing formats a string each time."""
    last: list[Any] = [_UNSET, None]

    def run(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        out = process(value)
        last[0], last[1] = value, out
        return out

    return run


_UNSET = object()


def _order(compiled_names: Sequence[str], names: Sequence[str]) -> list[int] | None:
    """Where each of the compiled statement's parameters is in a row; ``None`` if it binds
    something a row does not hold (its rows then go through SQLAlchemy's executemany)."""
    where = {name: at for at, name in enumerate(names)}
    try:
        return [where[name] for name in compiled_names]
    except KeyError:
        return None


class _Plan:
    """One statement compiled for one dialect; rows in, driver parameters out."""

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        statement: Any,
        names: Sequence[str],
        columns: Sequence[str],
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.statement = statement
        self.sql = str(compiled)
        self.order = _order(tuple(compiled.positiontup or ()), names)
        self.names = tuple(names)
        self.processors = _processors(dialect, table, columns)

    def processed(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        """``rows`` as tuples with each column's bind processing applied (column by column:
        one ``map`` per processed column rather than a Python loop per value)."""
        if not self.processors:
            return [tuple(row) for row in rows]
        columns: list[Iterable[Any]] = list(zip(*rows, strict=True))
        for at, process in self.processors:
            columns[at] = map(_repeating(process), columns[at])
        return list(zip(*columns, strict=True))

    async def executemany(self, connection: AsyncConnection, rows: Sequence[Row]) -> None:
        if self.order is None:
            keyed = [dict(zip(self.names, row, strict=True)) for row in rows]
            await connection.execute(self.statement, keyed)
            return
        processed = self.processed(rows)
        if self.order != list(range(len(self.names))):
            if len(self.order) == 1:
                only = self.order[0]
                processed = [(row[only],) for row in processed]
            else:
                pick = itemgetter(*self.order)
                processed = [pick(row) for row in processed]
        await connection.exec_driver_sql(self.sql, processed)


class _Staging:
    """A temporary table of some of ``table``'s columns, on PostgreSQL, for one writer.

    Created on first use on each connection (``IF NOT EXISTS``: a rolled-back transaction
    takes it with it, and the next use creates it again), emptied after every use and at
    every commit, so it never holds rows between writes.
    """

    def __init__(
        self, dialect: Dialect, table: Table, columns: Sequence[str], apply: Callable[[str], str]
    ) -> None:
        quote = dialect.identifier_preparer.quote
        # Named by table and column set: writers of different columns never share a stage.
        tag = f"{zlib.crc32(','.join(columns).encode()):08x}"
        self.name = f"lb_stage_{table.name[:40]}_{tag}"
        listed = ", ".join(quote(c) for c in columns)
        source = dialect.identifier_preparer.format_table(table)
        self.create = (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.name} ON COMMIT DELETE ROWS "
            f"AS SELECT {listed} FROM {source} WITH NO DATA"
        )
        # One simple-protocol round trip: apply the staged rows, then empty the stage for
        # the next write of the same transaction.
        self.apply = f"{apply(self.name)}; TRUNCATE {self.name}"
        self.columns = tuple(columns)

    async def run(self, connection: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        # Through SQLAlchemy: its adapter opens the driver's transaction at a first statement.
        await connection.exec_driver_sql(self.create)
        driver = await _driver(connection)
        try:
            await driver.copy_records_to_table(self.name, records=rows, columns=self.columns)
            await driver.execute(self.apply)
        except asyncpg.PostgresError as exc:
            raise _translated(exc, self.apply) from exc


async def _driver(connection: AsyncConnection) -> Any:
    """The session's asyncpg connection, inside the session's transaction."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("the session's connection is closed")
    if not driver.is_in_transaction() and await connection.get_isolation_level() != "AUTOCOMMIT":
        # SQLAlchemy's adapter opens the driver's transaction lazily, at its first statement:
        # without one, a COPY would commit on its own.
        await connection.exec_driver_sql("SELECT 1")
    return driver


def _translated(exc: asyncpg.PostgresError, statement: str) -> DBAPIError:
    """What the same statement through SQLAlchemy would raise, so callers tell a taken key
    (retry) from anything else the same way on every path."""
    error = (
        IntegrityError if isinstance(exc, asyncpg.IntegrityConstraintViolationError) else DBAPIError
    )
    return error(statement, None, exc)


class BulkInsert:
    """Insert — or, with ``on_conflict``, upsert — many rows of ``table`` at once.

    Rows are tuples of Python values in ``columns`` order. Build one per table and column set
    (at module level) and share it: statements are compiled once per dialect. On PostgreSQL,
    from :data:`COPY_THRESHOLD` rows, a plain insert is one ``COPY`` into the table; an upsert
    ``COPY``\\ s into a staging table and applies it with one ``INSERT … SELECT … ON CONFLICT``
    (``on_conflict`` builds that clause for both forms, so the upsert means the same either
    way). Fewer rows, and SQLite, get one executemany on the driver.

    An upsert's rows must not repeat a conflict key: PostgreSQL refuses to update one row
    twice in a statement (keep the last of each key before writing).
    """

    def __init__(
        self, table: Table, columns: Sequence[str], *, on_conflict: OnConflict | None = None
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._on_conflict = on_conflict
        self._plans: dict[str, _Plan] = {}
        self._stages: dict[str, _Staging] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            insert = _insert(dialect, self.table).values({c: bindparam(c) for c in self.columns})
            statement = self._on_conflict(insert) if self._on_conflict is not None else insert
            plan = self._plans[dialect.name] = _Plan(
                dialect, self.table, statement, self.columns, self.columns
            )
        return plan

    def _stage(self, dialect: Dialect) -> _Staging:
        stage = self._stages.get(dialect.name)
        if stage is None:
            stage = self._stages[dialect.name] = _Staging(
                dialect, self.table, self.columns, self._staged_upsert(dialect)
            )
        return stage

    def _staged_upsert(self, dialect: Dialect) -> Callable[[str], str]:
        def apply(stage: str) -> str:
            assert self._on_conflict is not None
            source = table_clause(stage, *(column_clause(c) for c in self.columns))
            insert = _insert(dialect, self.table).from_select(list(self.columns), select(*source.c))
            compiled = self._on_conflict(insert).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
            return str(compiled)

        return apply

    async def execute(
        self, session: AsyncSession, rows: Sequence[Row], *, new: Sequence[Row] = ()
    ) -> None:
        """Write ``rows`` in the session's transaction.

        ``new`` are more rows, ones the caller just read are not stored (a first sync's):
        on PostgreSQL a batch of :data:`COPY_THRESHOLD` or more of them is copied straight
        into the table, which spares the upsert's conflict handling — a row a concurrent
        writer stored meanwhile then raises :class:`~sqlalchemy.exc.IntegrityError` (retry
        the unit of work: it reads the row this time). Otherwise they join ``rows``.
        """
        connection = await session.connection()
        dialect = connection.dialect
        copied = self._on_conflict is not None and dialect.name == "postgresql"
        if copied and len(new) >= COPY_THRESHOLD:
            await self._copy(connection, self._plan(dialect).processed(new))
        elif new:
            rows = [*rows, *new]
        if not rows:
            return
        plan = self._plan(dialect)
        if dialect.name != "postgresql" or len(rows) < COPY_THRESHOLD:
            await plan.executemany(connection, rows)
            return
        processed = plan.processed(rows)
        if self._on_conflict is None:
            await self._copy(connection, processed)
            return
        await self._stage(dialect).run(connection, processed)

    async def _copy(self, connection: AsyncConnection, processed: list[tuple[Any, ...]]) -> None:
        driver = await _driver(connection)
        try:
            await driver.copy_records_to_table(
                self.table.name,
                schema_name=self.table.schema,
                records=processed,
                columns=self.columns,
            )
        except asyncpg.PostgresError as exc:
            raise _translated(exc, f"COPY {self.table.name}") from exc


class BulkUpdate:
    """Update many rows of ``table`` by their ``key`` column at once.

    Rows are tuples ``(key, *columns)`` of Python values. On PostgreSQL, from
    :data:`COPY_THRESHOLD` rows, they are ``COPY``\\ d into a staging table and applied by one
    ``UPDATE … FROM``; fewer rows, and SQLite, get one executemany on the driver.
    """

    def __init__(self, table: Table, key: str, columns: Sequence[str]) -> None:
        self.table = table
        self.key = key
        self.columns = tuple(columns)
        self._names = (key, *self.columns)
        self._plans: dict[str, _Plan] = {}
        self._stages: dict[str, _Staging] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            # Parameters named apart from the columns: SQLAlchemy reserves a column's own name
            # for its SET clause.
            names = [f"b_{name}" for name in self._names]
            statement = (
                update(self.table)
                .where(self.table.c[self.key] == bindparam(names[0]))
                .values({c: bindparam(f"b_{c}") for c in self.columns})
            )
            plan = self._plans[dialect.name] = _Plan(
                dialect, self.table, statement, names, self._names
            )
        return plan

    def _stage(self, dialect: Dialect) -> _Staging:
        stage = self._stages.get(dialect.name)
        if stage is None:
            quote = dialect.identifier_preparer.quote
            target = dialect.identifier_preparer.format_table(self.table)
            sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in self.columns)
            key = quote(self.key)

            def apply(stage: str) -> str:
                return (
                    f"UPDATE {target} SET {sets} FROM {stage} AS s WHERE {target}.{key} = s.{key}"
                )

            stage = self._stages[dialect.name] = _Staging(dialect, self.table, self._names, apply)
        return stage

    async def execute(self, session: AsyncSession, rows: Sequence[Row]) -> None:
        """Apply ``rows`` in the session's transaction."""
        if not rows:
            return
        connection = await session.connection()
        dialect = connection.dialect
        plan = self._plan(dialect)
        if dialect.name != "postgresql" or len(rows) < COPY_THRESHOLD:
            await plan.executemany(connection, rows)
            return
        await self._stage(dialect).run(connection, plan.processed(rows))
