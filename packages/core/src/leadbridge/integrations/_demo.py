"""A plugin's demo workspace, for ``leadbridge demo``.

A plugin container may provide ``demo``: a :class:`BaseDemo` that starts something the plugin
can sync against without an account (Livestorm: its fake server) and says how to configure it
and what to show. ``leadbridge demo`` configures core with the :class:`DemoSetup`, runs a first
sync, creates the segments and point actions, and serves the gateway.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DemoSegment:
    name: str
    alias: str
    filters: list[dict[str, Any]]
    description: str = ""


@dataclass(frozen=True)
class DemoPointAction:
    name: str
    type: str
    delta: int
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSetup:
    """How to configure the integration for the demo, and what to create after its sync."""

    settings: dict[str, Any]
    credentials: dict[str, Any] = field(repr=False, default_factory=dict)
    #: Custom fields to define before the sync: ``(alias, type, label)``.
    custom_fields: list[tuple[str, str, str]] = field(default_factory=list)
    segments: list[DemoSegment] = field(default_factory=list)
    point_actions: list[DemoPointAction] = field(default_factory=list)
    #: Lines printed for the user (what was seeded, where it runs).
    notes: list[str] = field(default_factory=list)


class BaseDemo(ABC):
    """Starts and stops a plugin's demo workspace."""

    @abstractmethod
    async def start(self, data_dir: Path) -> DemoSetup:
        """Start the workspace (a local server…) and return how to use it."""

    async def stop(self) -> None:  # noqa: B027 - an optional hook
        """Stop what :meth:`start` started."""
