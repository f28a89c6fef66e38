from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from typing_extensions import override

from leadbridge import ContactService, CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.points import BasePointActionType, PointChangeRow, PointGroupScoreRow, PointsService


class AttendedSettings(BaseModel):
    """A plugin-like type: an optional event and a minimum attendance rate."""

    model_config = ConfigDict(extra="forbid")

    event_id: str | None = None
    min_rate: int = Field(0, ge=0, le=100)


class Attended(BasePointActionType[AttendedSettings]):
    key = "test.attended"
    label = "Attended a webinar"
    settings_schema = AttendedSettings

    @override
    def matches(self, details: Mapping[str, Any], settings: AttendedSettings) -> bool:
        if settings.event_id is not None and details.get("event_id") != settings.event_id:
            return False
        return int(details.get("rate", 0)) >= settings.min_rate


@pytest.fixture
def configure_container() -> Callable[[CoreContainer], None]:
    """Add the plugin-like action type before the container starts (and builds points)."""
    return lambda container: container.point_action_types.add_args(Attended())


@pytest.fixture
def points(container: CoreContainer) -> PointsService:
    return container.points_service()


@pytest.fixture
def contacts(container: CoreContainer) -> ContactService:
    return container.contact_service()


async def ledger(container: CoreContainer) -> dict[tuple[int, int | None], int]:
    """Sum of the change log per (contact, group)."""
    async with container.session_factory()() as session:
        rows = await session.execute(
            select(
                PointChangeRow.contact_id, PointChangeRow.group_id, func.sum(PointChangeRow.delta)
            ).group_by(PointChangeRow.contact_id, PointChangeRow.group_id)
        )
        return {(c, g): int(s) for c, g, s in rows.all()}


async def scores(container: CoreContainer) -> dict[tuple[int, int | None], int]:
    """Every contact's total (group None) and group scores, zeros left out."""
    async with container.session_factory()() as session:
        totals = await session.execute(select(ContactRow.id, ContactRow.points))
        groups = await session.execute(
            select(
                PointGroupScoreRow.contact_id,
                PointGroupScoreRow.group_id,
                PointGroupScoreRow.points,
            )
        )
        out = {(c, None): p for c, p in totals.all() if p}
        out.update({(c, g): p for c, g, p in groups.all() if p})
        return out
