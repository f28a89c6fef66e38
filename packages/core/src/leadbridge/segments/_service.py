"""Segments: definitions, validation, set-based rebuilds and membership queries."""

from __future__ import annotations

import builtins
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    and_,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from .._errors import ConfigurationError, ConflictError, NotFoundError, ValidationError
from ..contacts import ContactPage, ContactRow, load_custom_fields
from ..contacts._contact_service import _to_contacts
from ..db import UTCDateTime, chunked, utcnow
from ..events import Event, EventBus
from ._core_filters import SEGMENT_KEY
from ._deadline import regexp_deadline
from ._filter_context import FilterContext
from ._filter_dictionary import FilterDictionary, referenced_segments
from ._models import SegmentMemberRow, SegmentRow
from ._plugin_filter import BaseSegmentFilter

__all__ = ["RebuildResult", "Segment", "SegmentRebuilt", "SegmentService"]

_ALIAS_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: pg_advisory_xact_lock key that serializes segment definition changes (cycle checks).
_DEFINITIONS_LOCK = 0x5E6_0001


@dataclass(frozen=True)
class Segment:
    id: int
    name: str
    alias: str
    description: str | None
    is_published: bool
    filters: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    last_built_at: datetime | None
    build_seconds: float | None
    #: members at the last rebuild or manual change (``SegmentService.count`` is live)
    member_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "alias": self.alias,
            "description": self.description,
            "is_published": self.is_published,
            "filters": [dict(f) for f in self.filters],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "last_built_at": self.last_built_at.isoformat() if self.last_built_at else None,
            "build_seconds": self.build_seconds,
            "member_count": self.member_count,
        }


@dataclass(frozen=True)
class RebuildResult:
    alias: str
    added: int
    removed: int
    #: members after the rebuild
    total: int
    #: wall time, commit included
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "added": self.added,
            "removed": self.removed,
            "total": self.total,
            "seconds": round(self.seconds, 6),
        }


@dataclass(frozen=True, kw_only=True)
class SegmentRebuilt(Event):
    """Published inside a rebuild's transaction, after its writes."""

    segment_id: int
    alias: str
    added: int
    removed: int
    total: int


class _Unset:
    pass


_UNSET: Any = _Unset()


@dataclass
class _Graph:
    """Which segments each segment's filters refer to, by alias."""

    refs: dict[str, list[str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def referrers(self, alias: str) -> list[str]:
        return sorted(a for a, refs in self.refs.items() if alias in refs and a != alias)

    def cycle_from(self, start: str) -> list[str] | None:
        """A path ``start → … → start``, if there is one."""
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for ref in self.refs.get(node, ()):
                if ref == start:
                    return [*path, start]
                if ref not in seen:
                    seen.add(ref)
                    stack.append((ref, [*path, ref]))
        return None


class SegmentService:
    """Segments of contacts defined by filters, rebuilt with set-based SQL.

    ``clock`` gives "now" for relative dates (tests freeze it); ``timezone`` (an IANA name)
    decides where a day starts for ``today``, ``this week``, ``= 2024-05-01``… Plugin filters
    join the dictionary through ``plugin_filters`` or :meth:`register_filter`.
    ``regexp_timeout`` (seconds) bounds each statement evaluating a ``regexp`` filter on
    PostgreSQL; past it, :class:`FilterTimeoutError`.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        event_bus: EventBus | None = None,
        clock: Callable[[], datetime] = utcnow,
        timezone: str = "UTC",
        plugin_filters: Sequence[BaseSegmentFilter] = (),
        regexp_timeout: float = 30.0,
    ) -> None:
        if not regexp_timeout > 0:
            raise ConfigurationError(f"regexp_timeout must be positive, got {regexp_timeout!r}")
        self._session_factory = session_factory
        self._regexp_timeout = regexp_timeout
        self._bus = event_bus
        self._clock = clock
        try:
            self._tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(
                f"timezone {timezone!r} is unknown; use an IANA name like 'Europe/Paris'"
            ) from exc
        self._plugin_filters: list[BaseSegmentFilter] = []
        for plugin_filter in plugin_filters:
            self.register_filter(plugin_filter)

    @property
    def timezone(self) -> str:
        return self._tz.key

    def register_filter(self, segment_filter: BaseSegmentFilter) -> None:
        """Add a plugin filter to every dictionary this service builds."""
        FilterDictionary(plugin_filters=[*self._plugin_filters, segment_filter])  # checks it
        self._plugin_filters.append(segment_filter)

    # -- the dictionary --------------------------------------------------------------------

    async def dictionary(self) -> FilterDictionary:
        """Every filterable field, custom fields and plugin filters included."""
        async with self._session_factory() as session:
            return await self._dictionary(session)

    async def _dictionary(self, session: AsyncSession) -> FilterDictionary:
        return FilterDictionary(await load_custom_fields(session), self._plugin_filters)

    def _context(self, session: AsyncSession) -> FilterContext:
        now = self._clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return FilterContext(session.get_bind().dialect.name, now, self._tz)

    async def validate_filters(
        self, filters: Sequence[Mapping[str, Any]], *, alias: str | None = None
    ) -> list[dict[str, Any]]:
        """The normalized form of ``filters``, or a :class:`ValidationError` naming the filter.

        With ``alias``, also refuses segment references that would loop back to it.
        """
        async with self._session_factory() as session:
            return await self._check_filters(session, filters, alias, None)

    async def _check_filters(
        self,
        session: AsyncSession,
        filters: Sequence[Mapping[str, Any]],
        alias: str | None,
        old_alias: str | None,
    ) -> list[dict[str, Any]]:
        normalized = (await self._dictionary(session)).validate(filters, self._context(session))
        if not referenced_segments(normalized):
            return normalized
        graph = await self._graph(session)
        for i, item in enumerate(normalized):
            if item["field"] != SEGMENT_KEY:
                continue
            for ref in item["value"]:
                if ref not in graph.ids and ref != alias:
                    raise ValidationError(
                        f"filters[{i}] (field 'segment'): segment {ref!r} does not exist",
                        field=f"filters[{i}].value",
                        value=ref,
                    )
        if alias is None:
            return normalized
        if old_alias is not None:
            graph.refs.pop(old_alias, None)
        graph.refs[alias] = referenced_segments(normalized)
        path = graph.cycle_from(alias)
        if path is not None:
            i = next(
                i
                for i, item in enumerate(normalized)
                if item["field"] == SEGMENT_KEY and path[1] in item["value"]
            )
            raise ValidationError(
                f"filters[{i}] (field 'segment'): segment membership would loop: "
                + " → ".join(path),
                field=f"filters[{i}].value",
                value=path[1],
            )
        return normalized

    async def _graph(self, session: AsyncSession) -> _Graph:
        graph = _Graph()
        for sid, alias, filters in (
            await session.execute(select(SegmentRow.id, SegmentRow.alias, SegmentRow.filters))
        ).all():
            graph.ids[alias] = sid
            graph.refs[alias] = referenced_segments(filters or [])
        return graph

    @staticmethod
    async def _lock_definitions(session: AsyncSession) -> None:
        # Two concurrent saves could each pass the cycle check and close a loop together.
        # SQLite's BEGIN IMMEDIATE already serializes writers.
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DEFINITIONS_LOCK}
            )

    # -- definitions -----------------------------------------------------------------------

    async def create(
        self,
        name: str,
        *,
        alias: str | None = None,
        filters: Sequence[Mapping[str, Any]] = (),
        description: str | None = None,
        is_published: bool = True,
    ) -> Segment:
        """Create a segment (not built yet: call :meth:`rebuild`). ``alias`` defaults to a
        slug of ``name``."""
        name = _check_name(name)
        alias = _check_alias(alias if alias is not None else _slug(name))
        async with self._session_factory.begin() as session:
            await self._lock_definitions(session)
            normalized = await self._check_filters(session, filters, alias, None)
            if await session.scalar(select(SegmentRow.id).where(SegmentRow.alias == alias)):
                raise ConflictError(f"segment {alias!r} already exists", field="alias")
            now = self._now()
            row = SegmentRow(
                name=name,
                alias=alias,
                description=description,
                is_published=is_published,
                filters=normalized,
                created_at=now,
                updated_at=now,
                member_count=0,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise ConflictError(f"segment {alias!r} already exists", field="alias") from exc
            return _segment(row)

    async def update(
        self,
        segment: int | str,
        *,
        name: str | None = None,
        alias: str | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        description: str | None = _UNSET,
        is_published: bool | None = None,
    ) -> Segment:
        """Change the given attributes only (members change at the next rebuild)."""
        async with self._session_factory.begin() as session:
            await self._lock_definitions(session)
            row = await self._row(session, segment, for_update=True)
            old_alias = row.alias
            new_alias = _check_alias(alias) if alias is not None else old_alias
            if new_alias != old_alias:
                graph = await self._graph(session)
                users = graph.referrers(old_alias)
                if users:
                    raise ConflictError(
                        f"segment {old_alias!r} cannot be renamed: the filters of "
                        f"{', '.join(map(repr, users))} refer to it",
                        field="alias",
                    )
                if await session.scalar(select(SegmentRow.id).where(SegmentRow.alias == new_alias)):
                    raise ConflictError(f"segment {new_alias!r} already exists", field="alias")
            if filters is not None:
                row.filters = await self._check_filters(session, filters, new_alias, old_alias)
            elif new_alias != old_alias:
                # its own references to the old alias would now be dangling
                await self._check_filters(session, row.filters, new_alias, old_alias)
            if name is not None:
                row.name = _check_name(name)
            if description is not _UNSET:
                row.description = description
            if is_published is not None:
                row.is_published = is_published
            row.alias = new_alias
            row.updated_at = self._now()
            try:
                await session.flush()
            except IntegrityError as exc:
                raise ConflictError(f"segment {new_alias!r} already exists", field="alias") from exc
            return _segment(row)

    async def delete(self, segment: int | str) -> None:
        """Delete a segment and its memberships; refused while other segments refer to it."""
        async with self._session_factory.begin() as session:
            await self._lock_definitions(session)
            row = await self._row(session, segment, for_update=True)
            users = (await self._graph(session)).referrers(row.alias)
            if users:
                raise ConflictError(
                    f"segment {row.alias!r} is used by the filters of "
                    f"{', '.join(map(repr, users))}; change them first"
                )
            await session.execute(
                delete(SegmentMemberRow).where(SegmentMemberRow.segment_id == row.id)
            )
            await session.delete(row)

    async def get(self, segment_id: int) -> Segment:
        async with self._session_factory() as session:
            return _segment(await self._row(session, segment_id))

    async def get_by_alias(self, alias: str) -> Segment:
        async with self._session_factory() as session:
            return _segment(await self._row(session, alias))

    async def list(self) -> builtins.list[Segment]:
        async with self._session_factory() as session:
            rows = (await session.scalars(select(SegmentRow).order_by(SegmentRow.id))).all()
            return [_segment(r) for r in rows]

    async def _row(
        self, session: AsyncSession, segment: int | str, *, for_update: bool = False
    ) -> SegmentRow:
        if isinstance(segment, bool) or not isinstance(segment, int | str):
            raise ValidationError(f"a segment is named by id or alias, not {segment!r}")
        column = SegmentRow.id if isinstance(segment, int) else SegmentRow.alias
        stmt = select(SegmentRow).where(column == segment)
        if for_update:
            stmt = stmt.with_for_update()
        row = await session.scalar(stmt)
        if row is None:
            raise NotFoundError(f"segment {segment!r} does not exist")
        return row

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    # -- counting and building -------------------------------------------------------------

    async def preview_count(self, filters: Sequence[Mapping[str, Any]]) -> int:
        """How many contacts ``filters`` match now, without saving anything."""
        async with self._session_factory() as session:
            normalized = await self._check_filters(session, filters, None, None)
            where = (await self._dictionary(session)).where(normalized, self._context(session))
            await _tune_for_scans(session)
            stmt = select(func.count()).select_from(ContactRow).where(where)
            async with regexp_deadline(session, normalized, self._regexp_timeout):
                return int(await session.scalar(stmt) or 0)

    async def count(self, segment: int | str) -> int:
        """Members a rebuild would give the segment now (filters and manual changes)."""
        async with self._session_factory() as session:
            row = await self._row(session, segment)
            where = await self._where(session, row)
            await _tune_for_scans(session)
            m = aliased(SegmentMemberRow)
            flagged = select(1).where(m.segment_id == row.id, m.contact_id == ContactRow.id)
            removed = exists(flagged.where(m.manually_removed == true()))
            added = exists(flagged.where(m.manually_added == true()))
            stmt = (
                select(func.count())
                .select_from(ContactRow)
                .where(or_(and_(where, ~removed), added))
            )
            async with regexp_deadline(
                session, row.filters, self._regexp_timeout, segment=row.alias
            ):
                return int(await session.scalar(stmt) or 0)

    async def _where(self, session: AsyncSession, row: SegmentRow) -> ColumnElement[bool]:
        try:
            return (await self._dictionary(session)).where(row.filters, self._context(session))
        except ValidationError as exc:
            # The dictionary changed since the segment was saved (a plugin went away…).
            raise ValidationError(
                f"segment {row.alias!r}: {exc.message}", field=exc.field, value=exc.value
            ) from exc

    async def rebuild(self, segment: int | str) -> RebuildResult:
        """Bring the stored members in line with the filters, in one transaction.

        Adds the contacts that match and are neither members nor manually removed; removes
        the members that no longer match and were not manually added. Two statements of
        set-based SQL: no contact is loaded into Python.
        """
        started = time.perf_counter()
        async with self._session_factory.begin() as session:
            row = await self._row(session, segment, for_update=True)
            async with regexp_deadline(
                session, row.filters, self._regexp_timeout, segment=row.alias
            ):
                result = await self._rebuild(session, row, started)
        return replace(result, seconds=time.perf_counter() - started)

    async def _rebuild(
        self, session: AsyncSession, row: SegmentRow, started: float
    ) -> RebuildResult:
        where = await self._where(session, row)
        await _tune_for_scans(session)
        now = self._now()
        sid = row.id
        members = SegmentMemberRow
        columns = ["segment_id", "contact_id", "manually_added", "manually_removed", "added_at"]
        stamp = (literal(sid), false(), false(), literal(now, UTCDateTime()))
        has_rows = await session.scalar(
            select(members.contact_id).where(members.segment_id == sid).limit(1)
        )
        removed = 0
        if has_rows is None:
            # From empty: one INSERT … SELECT, exactly the hand-written statement.
            inserted = await session.execute(
                insert(members).from_select(
                    columns, select(stamp[0], ContactRow.id, *stamp[1:]).where(where)
                )
            )
            added = int(inserted.rowcount or 0)  # type: ignore[attr-defined]
        else:
            # The filters are evaluated once, into a temporary table of matching ids; the
            # insert and the delete are then joins against it.
            match = await _matching_ids(session, where)
            m = aliased(SegmentMemberRow)
            inserted = await session.execute(
                insert(members).from_select(
                    columns,
                    select(stamp[0], match.c.contact_id, *stamp[1:]).where(
                        ~exists(
                            select(literal_column("1")).where(
                                m.segment_id == sid, m.contact_id == match.c.contact_id
                            )
                        )
                    ),
                )
            )
            added = int(inserted.rowcount or 0)  # type: ignore[attr-defined]
            deleted = await session.execute(
                delete(members).where(
                    members.segment_id == sid,
                    members.manually_added == false(),
                    members.manually_removed == false(),
                    ~exists(
                        select(literal_column("1")).where(match.c.contact_id == members.contact_id)
                    ),
                )
            )
            removed = int(deleted.rowcount or 0)  # type: ignore[attr-defined]
            await _drop_matching_ids(session)
        # From empty, the count is what was inserted: no need to count it again.
        total = added if has_rows is None else await self._member_count(session, sid)
        row.last_built_at = now
        row.member_count = total
        row.build_seconds = round(time.perf_counter() - started, 6)
        await session.flush()
        if self._bus is not None:
            await self._bus.publish(
                SegmentRebuilt(
                    segment_id=sid,
                    alias=row.alias,
                    added=added,
                    removed=removed,
                    total=total,
                    session=session,
                )
            )
        return RebuildResult(row.alias, added, removed, total, row.build_seconds)

    @staticmethod
    async def _member_count(session: AsyncSession, segment_id: int) -> int:
        stmt = (
            select(func.count())
            .select_from(SegmentMemberRow)
            .where(
                SegmentMemberRow.segment_id == segment_id,
                SegmentMemberRow.manually_removed == false(),
            )
        )
        return int(await session.scalar(stmt) or 0)

    async def rebuild_all(self) -> builtins.list[RebuildResult]:
        """Rebuild every segment, each after the segments its filters refer to.

        Each segment is rebuilt in its own transaction; the first failure stops the run.
        """
        async with self._session_factory() as session:
            graph = await self._graph(session)
        results = []
        for alias in _build_order(graph):
            results.append(await self.rebuild(graph.ids[alias]))
        return results

    # -- manual membership -----------------------------------------------------------------

    async def add_contacts(self, segment: int | str, contact_ids: Iterable[int]) -> int:
        """Make contacts members whatever the filters say; returns how many were not members.

        A rebuild never removes them (nor re-adds contacts removed with
        :meth:`remove_contacts`).
        """
        return await self._manual(segment, contact_ids, add=True)

    async def remove_contacts(self, segment: int | str, contact_ids: Iterable[int]) -> int:
        """Take contacts out and keep them out of later rebuilds; returns how many were
        members."""
        return await self._manual(segment, contact_ids, add=False)

    async def _manual(self, segment: int | str, contact_ids: Iterable[int], *, add: bool) -> int:
        ids = sorted({_contact_id(i) for i in contact_ids})
        members = SegmentMemberRow
        m = aliased(SegmentMemberRow)
        changed = 0
        async with self._session_factory.begin() as session:
            row = await self._row(session, segment, for_update=True)
            now = self._now()
            for chunk in chunked(ids):
                found = set(
                    (
                        await session.scalars(select(ContactRow.id).where(ContactRow.id.in_(chunk)))
                    ).all()
                )
                missing = [i for i in chunk if i not in found]
                if missing:
                    shown = ", ".join(map(str, missing[:5])) + (" …" if len(missing) > 5 else "")
                    raise NotFoundError(f"contact(s) {shown} do not exist; nothing was changed")
                mine = and_(members.segment_id == row.id, members.contact_id.in_(chunk))
                # rows whose membership flips: removed → added, or member → removed
                flipped = await session.execute(
                    update(members)
                    .where(mine, members.manually_removed == (true() if add else false()))
                    .values(manually_added=add, manually_removed=not add, added_at=now)
                )
                changed += int(flipped.rowcount or 0)  # type: ignore[attr-defined]
                if add:
                    await session.execute(
                        update(members)
                        .where(mine, members.manually_added == false())
                        .values(manually_added=True)
                    )
                created = await session.execute(
                    insert(members).from_select(
                        [
                            "segment_id",
                            "contact_id",
                            "manually_added",
                            "manually_removed",
                            "added_at",
                        ],
                        select(
                            literal(row.id),
                            ContactRow.id,
                            literal(add),
                            literal(not add),
                            literal(now, UTCDateTime()),
                        ).where(
                            ContactRow.id.in_(chunk),
                            ~exists(
                                select(1).where(
                                    m.segment_id == row.id, m.contact_id == ContactRow.id
                                )
                            ),
                        ),
                    )
                )
                if add:
                    changed += int(created.rowcount or 0)  # type: ignore[attr-defined]
            row.member_count = await self._member_count(session, row.id)
        return changed

    # -- membership queries ----------------------------------------------------------------

    async def is_member(self, segment: int | str, contact_id: int) -> bool:
        """Whether the contact is a stored member (as of the last rebuild or manual change)."""
        async with self._session_factory() as session:
            row = await self._row(session, segment)
            found = await session.scalar(
                select(SegmentMemberRow.contact_id).where(
                    SegmentMemberRow.segment_id == row.id,
                    SegmentMemberRow.contact_id == contact_id,
                    SegmentMemberRow.manually_removed == false(),
                )
            )
            return found is not None

    async def segments_of(self, contact_id: int) -> builtins.list[Segment]:
        """The segments the contact is a stored member of, by id."""
        async with self._session_factory() as session:
            rows = (
                await session.scalars(
                    select(SegmentRow)
                    .join(SegmentMemberRow, SegmentMemberRow.segment_id == SegmentRow.id)
                    .where(
                        SegmentMemberRow.contact_id == contact_id,
                        SegmentMemberRow.manually_removed == false(),
                    )
                    .order_by(SegmentRow.id)
                )
            ).all()
            return [_segment(r) for r in rows]

    async def members(
        self, segment: int | str, *, limit: int = 50, after: int | None = None
    ) -> ContactPage:
        """Stored members by contact id, ``limit`` at a time; pass ``next_after`` back."""
        if not 1 <= limit <= 10_000:
            raise ValidationError("limit must be between 1 and 10000", field="limit", value=limit)
        async with self._session_factory() as session:
            row = await self._row(session, segment)
            stmt = (
                select(ContactRow)
                .join(
                    SegmentMemberRow,
                    and_(
                        SegmentMemberRow.contact_id == ContactRow.id,
                        SegmentMemberRow.segment_id == row.id,
                        SegmentMemberRow.manually_removed == false(),
                    ),
                )
                .order_by(ContactRow.id)
                .limit(limit + 1)
            )
            if after is not None:
                stmt = stmt.where(ContactRow.id > after)
            rows = builtins.list((await session.scalars(stmt)).all())
            more = len(rows) > limit
            items = await _to_contacts(session, rows[:limit])
        return ContactPage(items, items[-1].id if more and items else None)


_MATCH = "segment_rebuild_match"
_match_table = table(_MATCH, column("contact_id"))


async def _tune_for_scans(session: AsyncSession) -> None:
    """PostgreSQL only: plan the rebuild's statements as the scans of every contact they are.

    PostgreSQL keeps no statistics on JSON paths, and none on a tags table too small for
    autovacuum to analyze: it then guesses that few contacts match and walks an index once per
    tagged contact, ten times slower than hash joins over a million contacts. Hash joins are
    always fine here, and they need more than the default 4 MB of work memory. Both settings
    end with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(
                "SELECT set_config('enable_nestloop', 'off', true),"
                " set_config('work_mem', '64MB', true)"
            )
        )


async def _matching_ids(session: AsyncSession, where: ColumnElement[bool]) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(f"CREATE TEMPORARY TABLE {_MATCH} (contact_id BIGINT NOT NULL) ON COMMIT DROP")
        )
    else:
        # INTEGER PRIMARY KEY: the rowid itself, so lookups by id cost no extra index.
        await session.execute(
            text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_MATCH} (contact_id INTEGER PRIMARY KEY)")
        )
        await session.execute(text(f"DELETE FROM temp.{_MATCH}"))
    await session.execute(
        insert(_match_table).from_select(["contact_id"], select(ContactRow.id).where(where))
    )
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ANALYZE {_MATCH}"))
    return _match_table


async def _drop_matching_ids(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"DROP TABLE {_MATCH}"))
    else:
        await session.execute(text(f"DELETE FROM temp.{_MATCH}"))


def _build_order(graph: _Graph) -> builtins.list[str]:
    """Aliases so that every segment comes after those it refers to (ties by id)."""
    pending = {a: {r for r in refs if r in graph.ids and r != a} for a, refs in graph.refs.items()}
    order: builtins.list[str] = []
    while pending:
        ready = sorted((a for a, deps in pending.items() if not deps), key=graph.ids.__getitem__)
        if not ready:
            looped = sorted(pending, key=graph.ids.__getitem__)
            raise ValidationError(
                "segment membership filters loop between " + ", ".join(map(repr, looped)),
                field="filters",
            )
        for alias in ready:
            order.append(alias)
            del pending[alias]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def _segment(row: SegmentRow) -> Segment:
    return Segment(
        id=row.id,
        name=row.name,
        alias=row.alias,
        description=row.description,
        is_published=row.is_published,
        filters=[dict(f) for f in row.filters or []],
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_built_at=row.last_built_at,
        build_seconds=row.build_seconds,
        member_count=row.member_count,
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 255:
        raise ValidationError("a segment name is 1 to 255 characters", field="name", value=name)
    return name.strip()


def _check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
        raise ValidationError(
            f"segment alias {alias!r} is invalid: use lowercase letters, digits, - and _, "
            "starting with a letter or digit (at most 64)",
            field="alias",
            value=alias,
        )
    return alias


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].rstrip("-")
    if not slug:
        raise ValidationError(
            f"cannot derive an alias from the name {name!r}; give one", field="alias"
        )
    return slug


def _contact_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"contact ids are integers, not {value!r}", field="contact_ids")
    return value
