"""``leadbridge sync run memory`` over a slow in-memory integration, for the kill -9 test.

Run as a script: ``python slow_sync.py PAGE_DELAY`` (the database comes from
``LEADBRIDGE_DATABASE_URL``). :func:`build` is also what the test reruns in-process.
"""

from __future__ import annotations

import sys

from leadbridge.testing import MemoryIntegration

TOTAL = 600
PAGE = 50


def build(page_delay: float = 0.0) -> MemoryIntegration:
    remote = MemoryIntegration(page_size=PAGE)
    for i in range(TOTAL):
        remote.add({"emailAddress": f"k{i}@example.com", "firstName": f"K{i}", "score": i})
    remote.page_delay = page_delay
    return remote


if __name__ == "__main__":
    from leadbridge.cli import main
    from leadbridge.sync import SyncTarget, register_sync_target

    remote = build(page_delay=float(sys.argv[1]))
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    sys.argv = ["leadbridge", "sync", "run", "memory", "--json"]
    main()
