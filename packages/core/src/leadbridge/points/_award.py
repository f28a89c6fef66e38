"""The set-based write behind every award and adjustment, threshold check included.

One grant (an action's award or a manual adjustment) is applied to a set of contacts with a
few statements whatever the set's size, and no contact id travels through Python:

* PostgreSQL: one statement of data-modifying CTEs — ``INSERT INTO point_awards … ON CONFLICT
  DO NOTHING RETURNING`` (non-repeatable actions), ``UPDATE contacts … RETURNING`` the new
  scores (or the group-score upsert), ``INSERT INTO point_changes … SELECT`` from them, and,
  when triggers watch the score, ``INSERT INTO point_trigger_fires … ON CONFLICT DO NOTHING
  RETURNING`` for the returned scores that reach a threshold. The award key decides between
  concurrent transactions: a conflicting row is not returned, so its contact is neither
  scored nor logged.
* SQLite: a writing transaction holds the database's only write lock (``BEGIN IMMEDIATE``), so
  rows this transaction adds past a table's highest id/rowid are its own: the award keys are
  inserted (``ON CONFLICT DO NOTHING``), the change log is inserted from the new keys (or from
  the contacts), and the scores and the threshold check read the change-log rows just written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ..contacts import ContactRow
from ..db import UTCDateTime, dialect_insert, dialect_name, id_set, utcnow
from ._models import (
    PointAwardRow,
    PointChangeRow,
    PointGroupScoreRow,
    PointTriggerFireRow,
    PointTriggerRow,
)

_contacts = cast(Table, ContactRow.__table__)
_scores = cast(Table, PointGroupScoreRow.__table__)
_awards = cast(Table, PointAwardRow.__table__)
_changes = cast(Table, PointChangeRow.__table__)
_fires = cast(Table, PointTriggerFireRow.__table__)
_triggers = cast(Table, PointTriggerRow.__table__)
_CHANGE_COLUMNS = ["contact_id", "action_id", "group_id", "delta", "reason", "created_at"]
_FIRE_COLUMNS = ["trigger_id", "contact_id", "fired_at"]


@dataclass(frozen=True)
class Grant:
    """One change to apply to a set of contacts: an action's award or a manual adjustment."""

    action_id: int | None
    group_id: int | None
    delta: int
    reason: str
    #: Award at most once per contact (a non-repeatable action), by the award key.
    once: bool


@dataclass
class Granted:
    #: How many contacts changed.
    count: int = 0
    #: Trigger id → the contacts for which it fired (each for the first time).
    fired: dict[int, list[int]] = field(default_factory=dict)


async def watching_triggers(
    session: AsyncSession, group_id: int | None, trigger_id: int | None = None
) -> dict[int, int]:
    """Published triggers on the total (``group_id`` None) or a group: id → threshold."""
    stmt = select(_triggers.c.id, _triggers.c.threshold).where(
        _triggers.c.published,
        _triggers.c.group_id.is_(None) if group_id is None else _triggers.c.group_id == group_id,
    )
    if trigger_id is not None:
        stmt = stmt.where(_triggers.c.id == trigger_id)
    return {tid: threshold for tid, threshold in (await session.execute(stmt)).all()}


async def write_grant(
    session: AsyncSession,
    grant: Grant,
    contacts: Sequence[int] | Select[Any],
    thresholds: Mapping[int, int],
) -> Granted:
    """Apply ``grant`` to ``contacts`` (ids, or a one-column SELECT of ids) and fire the
    ``thresholds`` (trigger id → threshold, watching the grant's score) the changed contacts
    reach. Contacts that do not exist are skipped."""
    source = contacts if isinstance(contacts, Select) else id_set(session, contacts)
    if dialect_name(session) == "postgresql":
        granted = await _write_postgresql(session, grant, source, thresholds)
    else:
        granted = await _write_sqlite(session, grant, source, thresholds)
    if granted.count and grant.group_id is None:
        await _refresh_loaded_contacts(session)
    return granted


async def fire_reached(
    session: AsyncSession, group_id: int | None, thresholds: Mapping[int, int]
) -> dict[int, list[int]]:
    """Fire ``thresholds`` for every contact already at them (a trigger applied to existing
    contacts); returns trigger id → contacts fired for."""
    if not thresholds:
        return {}
    if group_id is None:
        scores = select(_contacts.c.id.label("contact_id"), _contacts.c.points)
    else:
        scores = select(_scores.c.contact_id, _scores.c.points).where(
            _scores.c.group_id == group_id
        )
    stmt = _fire_insert(session, thresholds, scores.subquery(), utcnow())
    return _collect(await session.execute(stmt.returning(_fires.c.trigger_id, _fires.c.contact_id)))


def _change_values(grant: Grant, now: datetime) -> list[Any]:
    return [
        literal(grant.action_id, Integer),
        literal(grant.group_id, Integer),
        literal(grant.delta, Integer),
        literal(grant.reason, String),
        literal(now, UTCDateTime()),
    ]


def _fire_insert(
    session: AsyncSession, thresholds: Mapping[int, int], reached: FromClause, now: datetime
) -> Any:
    """``INSERT INTO point_trigger_fires`` for ``reached`` (contact_id, points) rows at a
    threshold; the fired-log key keeps each trigger to once per contact."""
    # The lowest threshold first: most contacts are below it, and the database drops them
    # before it joins anything.
    points = cast(ColumnElement[int], reached.c.points)
    candidates = (
        select(_triggers.c.id, reached.c.contact_id, literal(now, UTCDateTime()))
        .join_from(_triggers, reached, points >= _triggers.c.threshold)
        .where(_triggers.c.id.in_(list(thresholds)), points >= min(thresholds.values()))
    )
    return (
        dialect_insert(session, _fires)
        .from_select(_FIRE_COLUMNS, candidates)
        .on_conflict_do_nothing()
    )


def _collect(rows: Any) -> dict[int, list[int]]:
    fired: dict[int, list[int]] = {}
    for trigger_id, contact_id in rows.all():
        fired.setdefault(trigger_id, []).append(contact_id)
    return fired


async def _write_postgresql(
    session: AsyncSession, grant: Grant, source: Select[Any], thresholds: Mapping[int, int]
) -> Granted:
    now = utcnow()
    ctes = []
    new = None
    if grant.once:
        new = (
            postgresql.insert(_awards)
            .from_select(
                ["action_id", "contact_id", "awarded_at"],
                select(
                    literal(grant.action_id, Integer), _contacts.c.id, literal(now, UTCDateTime())
                ).where(_contacts.c.id.in_(source)),
            )
            .on_conflict_do_nothing()
            .returning(_awards.c.contact_id)
            .cte("new_awards")
        )
        ctes.append(new)
    if grant.group_id is None:
        scoring = update(_contacts).values(points=_contacts.c.points + grant.delta)
        # New award keys are unique contacts: a join (UPDATE … FROM), no de-duplication.
        scoring = scoring.where(
            _contacts.c.id == new.c.contact_id if new is not None else _contacts.c.id.in_(source)
        )
        changed = scoring.returning(_contacts.c.id.label("contact_id"), _contacts.c.points).cte(
            "changed"
        )
    else:
        gid, delta = literal(grant.group_id, Integer), literal(grant.delta, Integer)
        rows = (
            select(new.c.contact_id, gid, delta)
            if new is not None
            else select(_contacts.c.id, gid, delta).where(_contacts.c.id.in_(source))
        )
        upsert = postgresql.insert(_scores).from_select(["contact_id", "group_id", "points"], rows)
        changed = (
            upsert.on_conflict_do_update(
                index_elements=["contact_id", "group_id"],
                set_={"points": _scores.c.points + upsert.excluded.points},
            )
            .returning(_scores.c.contact_id, _scores.c.points)
            .cte("changed")
        )
    ctes.append(changed)
    log = postgresql.insert(_changes).from_select(
        _CHANGE_COLUMNS, select(changed.c.contact_id, *_change_values(grant, now))
    )
    if not thresholds:
        # Data-modifying CTEs must sit at the top of the statement (WITH … INSERT).
        result = await session.execute(log.add_cte(*ctes))
        return Granted(int(result.rowcount or 0))  # type: ignore[attr-defined]
    # The new scores come back from the UPDATE: the threshold check reads nothing again.
    logged = log.returning(_changes.c.contact_id).cte("logged")
    fired = (
        _fire_insert(session, thresholds, changed, now)
        .returning(_fires.c.trigger_id, _fires.c.contact_id)
        .cte("fired")
    )
    summary = select(
        select(func.count()).select_from(logged).scalar_subquery(),
        select(func.array_agg(fired.c.trigger_id)).scalar_subquery(),
        select(func.array_agg(fired.c.contact_id)).scalar_subquery(),
    ).add_cte(*ctes, logged, fired)
    count, trigger_ids, contact_ids = (await session.execute(summary)).one()
    granted = Granted(int(count))
    for trigger_id, contact_id in zip(trigger_ids or (), contact_ids or (), strict=True):
        granted.fired.setdefault(trigger_id, []).append(contact_id)
    return granted


async def _write_sqlite(
    session: AsyncSession, grant: Grant, source: Select[Any], thresholds: Mapping[int, int]
) -> Granted:
    now = utcnow()
    since = int(await session.scalar(select(func.coalesce(func.max(_changes.c.id), 0))) or 0)
    if grant.once:
        rowid: ColumnElement[int] = literal_column("point_awards.rowid")
        last = select(func.coalesce(func.max(rowid), 0)).select_from(_awards)
        before = int(await session.scalar(last) or 0)
        await session.execute(
            dialect_insert(session, _awards)
            .from_select(
                ["action_id", "contact_id", "awarded_at"],
                select(
                    literal(grant.action_id, Integer), _contacts.c.id, literal(now, UTCDateTime())
                ).where(_contacts.c.id.in_(source)),
            )
            .on_conflict_do_nothing()
        )
        who = select(_awards.c.contact_id, *_change_values(grant, now)).where(rowid > before)
    else:
        who = select(_contacts.c.id, *_change_values(grant, now)).where(_contacts.c.id.in_(source))
    logged = await session.execute(
        dialect_insert(session, _changes).from_select(_CHANGE_COLUMNS, who)
    )
    count = int(logged.rowcount or 0)  # type: ignore[attr-defined]
    if not count:
        return Granted()
    ours = select(_changes.c.contact_id).where(_changes.c.id > since)
    if grant.group_id is None:
        await session.execute(
            update(_contacts)
            .where(_contacts.c.id.in_(ours))
            .values(points=_contacts.c.points + grant.delta)
        )
        scores = select(_contacts.c.id.label("contact_id"), _contacts.c.points).where(
            _contacts.c.id.in_(ours)
        )
    else:
        upsert = dialect_insert(session, _scores).from_select(
            ["contact_id", "group_id", "points"],
            select(
                _changes.c.contact_id,
                literal(grant.group_id, Integer),
                literal(grant.delta, Integer),
            ).where(_changes.c.id > since),
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["contact_id", "group_id"],
                set_={"points": _scores.c.points + upsert.excluded.points},
            )
        )
        scores = select(_scores.c.contact_id, _scores.c.points).where(
            _scores.c.group_id == grant.group_id, _scores.c.contact_id.in_(ours)
        )
    granted = Granted(count)
    if thresholds:
        stmt = _fire_insert(session, thresholds, scores.subquery(), now)
        granted.fired = _collect(
            await session.execute(stmt.returning(_fires.c.trigger_id, _fires.c.contact_id))
        )
    return granted


async def _refresh_loaded_contacts(session: AsyncSession) -> None:
    # A contact loaded in this session (ContactService.create publishing ContactCreated) would
    # otherwise show its old total to the code that loaded it.
    identity_map = session.sync_session.identity_map
    keys = identity_map.keys()  # (class, primary key, token); loads nothing
    loaded = [key[1][0] for key in keys if key[0] is ContactRow]
    if not loaded:
        return
    rows = await session.execute(
        select(_contacts.c.id, _contacts.c.points).where(_contacts.c.id.in_(loaded))
    )
    for contact_id, points in rows.all():
        obj = identity_map.get((ContactRow, (contact_id,), None))
        if obj is not None:
            set_committed_value(obj, "points", points)


async def record_past_awards(session: AsyncSession, action_id: int) -> None:
    """Award keys for every contact ``action_id`` has awarded (it becomes non-repeatable)."""
    past = (
        select(_changes.c.action_id, _changes.c.contact_id, literal(utcnow(), UTCDateTime()))
        .where(_changes.c.action_id == action_id)
        .group_by(_changes.c.action_id, _changes.c.contact_id)
    )
    await session.execute(
        dialect_insert(session, _awards)
        .from_select(["action_id", "contact_id", "awarded_at"], past)
        .on_conflict_do_nothing()
    )
