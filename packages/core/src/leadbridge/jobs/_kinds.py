"""Job kinds: what a job does, named."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class JobKind(enum.StrEnum):
    """Core's job kinds; plugins add theirs with :class:`BaseJobKind`."""

    SYNC = "sync"
    SEGMENTS = "segments"
    PRUNE = "prune"


class BaseJobKind:
    """A job kind contributed by a plugin (its container's ``job_kinds`` list).

    Subclass it, set :attr:`name` (unique, not one of core's kinds) and implement :meth:`run`:
    a plain async function of JSON-compatible ``arguments`` that the embedded runner (SQLite)
    and the queue's workers (PostgreSQL) both call. Raise
    :class:`~leadbridge.jobs.RetriableJobError` for a failure that may pass (it is retried with
    backoff on PostgreSQL) and :class:`~leadbridge.jobs.FatalJobError` otherwise. A schedule of
    this kind passes its target as ``arguments["target"]``. Return a short outcome to show.
    """

    #: The kind's name, as schedules and job listings show it.
    name: str = ""

    async def run(self, arguments: Mapping[str, Any]) -> str | None:
        raise NotImplementedError
