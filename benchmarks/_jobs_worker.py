"""A ``leadbridge worker`` process for ``jobs_throughput``: integrations ``PREFIX0`` …
``PREFIX{n-1}``, each 10 people behind a 20 ms page latency, built when first synced.

``python -m benchmarks._jobs_worker PREFIX N [worker options…]`` (database from
``LEADBRIDGE_DATABASE_URL``).
"""

from __future__ import annotations

import sys
from typing import Any

from leadbridge.testing import MemoryIntegration

from ._sync_common import FIELDS, make_person

OBJECTS = 10
LATENCY = 0.02


def remote(prefix: str, index: int) -> MemoryIntegration:
    """Integration ``prefix{index}``: its own 10 people (emails unique across integrations)."""

    def make(i: int) -> dict[str, Any]:
        return make_person(index * OBJECTS + i) | {
            "emailAddress": f"{prefix}{index}-{i}@bench.example.com"
        }

    integration = MemoryIntegration.synthetic(
        OBJECTS, make, name=f"{prefix}{index}", page_size=OBJECTS
    )
    integration.page_delay = LATENCY
    return integration


def register(prefix: str, n: int) -> None:
    from leadbridge.sync import SyncTarget, register_sync_target

    for index in range(n):

        def target(index: int = index) -> SyncTarget:
            made = remote(prefix, index)
            return SyncTarget(made.exchange(), made.manual(only=FIELDS))

        register_sync_target(f"{prefix}{index}", target)


if __name__ == "__main__":
    from leadbridge.cli import main

    register(sys.argv[1], int(sys.argv[2]))
    sys.argv = ["leadbridge", "worker", *sys.argv[3:]]
    main()
