"""Job kinds by name: how a runner turns ``(kind, arguments)`` into a call of a job function."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from ..contacts import ChangeLogService
from ..segments import SegmentService
from ..sync import SyncService, SyncTrigger
from ._errors import InvalidScheduleError
from ._functions import options_from_dict, prune_change_log_job, rebuild_segments_job, sync_job
from ._kinds import BaseJobKind, JobKind
from ._schedules import Schedule


class JobCatalog:
    """Core's job kinds and the plugins' (``plugin_kinds``), run by name.

    Arguments are JSON values, what a queued job carries:

    * ``sync``: ``integration``, ``options`` (``SyncOptions.to_dict()``), ``run_id``,
      ``trigger``;
    * ``segments``: ``alias`` (none: all);
    * ``prune``: nothing;
    * a plugin kind: what it documents (a schedule passes ``target``).
    """

    def __init__(
        self,
        sync_service: SyncService,
        segment_service: SegmentService,
        change_log_service: ChangeLogService,
        plugin_kinds: Sequence[BaseJobKind] = (),
    ) -> None:
        self._sync = sync_service
        self._segments = segment_service
        self._change_log = change_log_service
        self._plugins: dict[str, BaseJobKind] = {}
        for kind in plugin_kinds:
            if not kind.name or kind.name in set(JobKind) or kind.name in self._plugins:
                raise InvalidScheduleError(
                    f"job kind {kind.name!r} of {type(kind).__name__} is empty or taken",
                    field="kind",
                    value=kind.name,
                )
            self._plugins[kind.name] = kind

    @property
    def names(self) -> list[str]:
        return sorted({k.value for k in JobKind} | set(self._plugins))

    @property
    def plugin_names(self) -> list[str]:
        return sorted(self._plugins)

    async def run(
        self, kind: str, arguments: Mapping[str, Any], *, stop: asyncio.Event | None = None
    ) -> str:
        """Run the job; returns a one-line outcome (job errors propagate)."""
        if kind == JobKind.SYNC:
            result = await sync_job(
                self._sync,
                str(arguments["integration"]),
                options_from_dict(arguments.get("options")),
                run_id=arguments.get("run_id"),
                trigger=SyncTrigger(arguments.get("trigger") or SyncTrigger.SCHEDULE),
                stop=stop,
            )
            changes = ", ".join(f"{k} {v}" for k, v in result.counters.to_dict().items() if v)
            return f"run {result.run_id} {result.status.value}" + (
                f": {changes}" if changes else ""
            )
        if kind == JobKind.SEGMENTS:
            rebuilt = await rebuild_segments_job(self._segments, arguments.get("alias"))
            return f"rebuilt {len(rebuilt)} segment(s)"
        if kind == JobKind.PRUNE:
            return f"pruned {await prune_change_log_job(self._change_log)} change-log row(s)"
        plugin = self._plugins.get(kind)
        if plugin is None:
            raise InvalidScheduleError(f"job kind {kind!r} is unknown", field="kind", value=kind)
        return await plugin.run(arguments) or "done"

    @staticmethod
    def arguments_of(schedule: Schedule) -> dict[str, Any]:
        """What a firing of ``schedule`` passes to its job."""
        arguments: dict[str, Any]
        if schedule.kind == JobKind.SYNC:
            arguments = {"integration": schedule.target, "trigger": SyncTrigger.SCHEDULE.value}
        elif schedule.kind == JobKind.SEGMENTS:
            arguments = {"alias": schedule.target}
        elif schedule.kind == JobKind.PRUNE:
            arguments = {}
        else:
            arguments = {"target": schedule.target}
        return {**arguments, "schedule_id": schedule.id}
