"""Push results → object mappings and per-object errors, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import chunked
from ._exchange import ObjectResult, Order, OrderItem, OrderResult
from ._models import ERRORS, MAPPINGS, SyncErrorRow, SyncObjectMappingRow
from ._options import SyncDirection
from ._outcome import PageOutcome
from ._results import SyncFailure

#: Updated objects sharing a reported modification time stamped by one statement from this
#: many on (fewer cost more as statements than as rows of one executemany).
_SHARED_STAMP_MIN = 20


@dataclass
class PlannedOrder:
    order: Order
    #: mapping ids to drop: contacts deleted here, the integration cannot delete
    forget: list[int] = field(default_factory=list)


@dataclass
class OrderEffects:
    """What an order's results change in the mappings."""

    #: new mappings by integration id (objects the integration created)
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: integration ids of updated objects, by the modification time the integration reported
    updated: dict[datetime | None, list[str]] = field(default_factory=dict)
    #: integration ids of objects the integration deleted
    deleted: list[str] = field(default_factory=list)
    #: mapping ids to drop
    forget: list[int] = field(default_factory=list)
    #: contacts the order tried, whatever came of it
    attempted: set[int] = field(default_factory=set)


class PushStore:
    """Stores what the integration answered to orders: mappings created, stamped or dropped,
    errors recorded, earlier errors resolved. One instance per run, for contacts and audiences.
    """

    def __init__(self, *, integration: str, run_id: int | None) -> None:
        self._integration = integration
        self._run_id = run_id
        #: contacts whose push failed and is not resolved yet (retried first)
        self.unresolved: set[int] = set()

    async def load_unresolved(self, session: AsyncSession, objects: Sequence[str]) -> None:
        """Remember the contacts whose push of ``objects`` failed and is not resolved yet."""
        retry = (
            await session.scalars(
                select(SyncErrorRow.contact_id)
                .where(
                    SyncErrorRow.integration == self._integration,
                    SyncErrorRow.direction == SyncDirection.PUSH,
                    SyncErrorRow.object.in_(objects),
                    SyncErrorRow.resolved_at.is_(None),
                    SyncErrorRow.contact_id.is_not(None),
                )
                .distinct()
            )
        ).all()
        self.unresolved = {int(c) for c in retry if c is not None}

    async def store(
        self,
        session: AsyncSession,
        planned: PlannedOrder,
        result: OrderResult,
        now: datetime,
    ) -> PageOutcome:
        """Count ``result`` and write what it changes; returns the counters and failures."""
        out = PageOutcome()
        effects = self._effects(planned, result, now, out.failures)
        out.counters.api_calls += result.api_calls
        out.counters.pushed += len(planned.order) - len(out.failures)
        out.counters.failed += len(out.failures)
        await self._write(session, planned.order.object, effects, out.failures, now)
        return out

    def _effects(
        self,
        planned: PlannedOrder,
        result: OrderResult,
        now: datetime,
        failures: list[SyncFailure],
    ) -> OrderEffects:
        order = planned.order
        by_pair: dict[tuple[int, str | None], ObjectResult] = {}
        by_contact: dict[int, ObjectResult] = {}
        for reply in result.results:
            by_pair[(reply.contact_id, reply.integration_id)] = reply
            by_contact.setdefault(reply.contact_id, reply)
        effects = OrderEffects(forget=list(planned.forget))

        def failed(item: OrderItem, reason: str) -> None:
            failures.append(
                SyncFailure(
                    direction=SyncDirection.PUSH,
                    object=order.object,
                    message=reason,
                    integration_id=item.integration_id,
                    contact_id=item.contact_id,
                    run_id=self._run_id,
                )
            )

        for item in order.creates:
            effects.attempted.add(item.contact_id)
            made = by_contact.get(item.contact_id)
            if made is None:
                failed(item, "the integration returned no result")
            elif not made.ok or not made.integration_id:
                failed(item, made.error or "the integration returned no id for the new object")
            else:
                effects.created[made.integration_id] = {
                    "integration": self._integration,
                    "object": order.object,
                    "integration_id": made.integration_id,
                    "contact_id": item.contact_id,
                    "integration_modified_at": made.modified_at,
                    "last_synced_at": now,
                    "created_at": now,
                }
        for item in order.updates:
            effects.attempted.add(item.contact_id)
            answer = by_pair.get((item.contact_id, item.integration_id))
            if answer is None:
                failed(item, "the integration returned no result")
            elif not answer.ok:
                failed(item, answer.error or "failed")
            else:
                assert item.integration_id is not None
                effects.updated.setdefault(answer.modified_at, []).append(item.integration_id)
        for item in order.deletes:
            effects.attempted.add(item.contact_id)
            answer = by_pair.get((item.contact_id, item.integration_id))
            if answer is None or not answer.ok:
                failed(
                    item,
                    (answer.error if answer is not None else None)
                    or "the integration returned no result",
                )
            else:
                assert item.integration_id is not None
                effects.deleted.append(item.integration_id)
        return effects

    async def _write(
        self,
        session: AsyncSession,
        obj: str,
        effects: OrderEffects,
        failures: Sequence[SyncFailure],
        now: datetime,
    ) -> None:
        mapping = SyncObjectMappingRow
        if effects.created:
            await self._write_created(session, obj, effects.created, now)
        if effects.updated:
            await self._stamp(session, obj, effects.updated, now)
        for chunk in chunked(effects.deleted):
            await session.execute(
                delete(mapping).where(
                    mapping.integration == self._integration,
                    mapping.object == obj,
                    mapping.integration_id.in_(chunk),
                )
            )
        for id_chunk in chunked(effects.forget):
            await session.execute(delete(mapping).where(mapping.id.in_(id_chunk)))
        resolve = sorted(effects.attempted & self.unresolved)
        for contact_chunk in chunked(resolve):
            await session.execute(
                update(SyncErrorRow)
                .where(
                    SyncErrorRow.integration == self._integration,
                    SyncErrorRow.direction == SyncDirection.PUSH,
                    SyncErrorRow.object == obj,
                    SyncErrorRow.resolved_at.is_(None),
                    SyncErrorRow.contact_id.in_(contact_chunk),
                )
                .values(resolved_at=now)
            )
        if failures and self._run_id is not None:
            await session.execute(
                insert(ERRORS),
                [failure.to_row(self._integration, now) for failure in failures],
            )
            self.unresolved.update(f.contact_id for f in failures if f.contact_id is not None)

    async def _stamp(
        self,
        session: AsyncSession,
        obj: str,
        updated: dict[datetime | None, list[str]],
        now: datetime,
    ) -> None:
        """Stamp the updated objects' mappings: synced now, modified when the integration
        said (kept when it said nothing)."""
        table = MAPPINGS
        stamped = (
            update(table)
            .where(table.c.integration == self._integration, table.c.object == obj)
            .values(
                last_synced_at=now,
                integration_modified_at=func.coalesce(
                    bindparam("seen", type_=table.c.integration_modified_at.type),
                    table.c.integration_modified_at,
                ),
            )
        )
        # Objects sharing a modification time (often all of an order's) take one statement
        # per chunk; the rest one executemany by the unique (integration, object,
        # integration_id) key.
        one_by_one: list[dict[str, Any]] = []
        for seen, object_ids in updated.items():
            if len(object_ids) < _SHARED_STAMP_MIN:
                one_by_one.extend({"iid": object_id, "seen": seen} for object_id in object_ids)
                continue
            for chunk in chunked(object_ids):
                await session.execute(
                    stamped.where(table.c.integration_id.in_(chunk)), {"seen": seen}
                )
        if one_by_one:
            await session.execute(
                stamped.where(table.c.integration_id == bindparam("iid")), one_by_one
            )

    async def _write_created(
        self, session: AsyncSession, obj: str, created: dict[str, dict[str, Any]], now: datetime
    ) -> None:
        mapping = SyncObjectMappingRow
        # The integration may answer a create with an object it already had (matched by
        # email): repoint that mapping instead of inserting a duplicate.
        existing: dict[str, int] = {}
        for chunk in chunked(list(created)):
            existing.update(
                (
                    await session.execute(
                        select(mapping.integration_id, mapping.id).where(
                            mapping.integration == self._integration,
                            mapping.object == obj,
                            mapping.integration_id.in_(chunk),
                        )
                    )
                ).all()
            )
        fresh = [row for object_id, row in created.items() if object_id not in existing]
        if fresh:
            await session.execute(insert(MAPPINGS), fresh)
        repointed = [
            {
                "id": mapping_id,
                "contact_id": created[object_id]["contact_id"],
                "last_synced_at": now,
                "deleted_at": None,
            }
            for object_id, mapping_id in existing.items()
        ]
        if repointed:
            await session.execute(update(mapping), repointed)
