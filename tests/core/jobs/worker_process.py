"""``leadbridge worker`` in a process of its own, with memory integrations to sync.

Run as a script: ``python worker_process.py [worker options…]``; the database comes from
``LEADBRIDGE_DATABASE_URL``. Integrations ``mem0`` … ``mem{N-1}`` (``LB_TEST_INTEGRATIONS``)
each serve ``LB_TEST_PEOPLE`` people in pages of ``LB_TEST_PAGE`` after ``LB_TEST_PAGE_DELAY``
seconds a page; the same in every process, as one remote system seen from several machines.
``LB_TEST_FAIL`` (comma-separated): ``NAME:retriable:MARKER`` fails NAME's first run in any
process (a 503), once; ``NAME:fatal`` fails every run of NAME (credentials rejected).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from leadbridge.http import AuthenticationError, RetriableAPIError
from leadbridge.testing import MemoryIntegration


def build(name: str, people: int, page: int, page_delay: float = 0.0) -> MemoryIntegration:
    remote = MemoryIntegration(name=name, page_size=page)
    for i in range(people):
        remote.add({"emailAddress": f"{name}-{i}@example.com", "firstName": f"P{i}"}, id=str(i))
    remote.page_delay = page_delay
    return remote


def _register() -> None:
    from leadbridge.sync import SyncTarget, register_sync_target

    people = int(os.environ.get("LB_TEST_PEOPLE", "40"))
    page = int(os.environ.get("LB_TEST_PAGE", "10"))
    delay = float(os.environ.get("LB_TEST_PAGE_DELAY", "0"))
    failures = dict(f.split(":", 1) for f in os.environ.get("LB_TEST_FAIL", "").split(",") if f)
    for n in range(int(os.environ.get("LB_TEST_INTEGRATIONS", "3"))):
        remote = build(f"mem{n}", people, page, delay)

        def target(remote: MemoryIntegration = remote) -> SyncTarget:
            if remote.name in failures:
                kind, _, marker = failures[remote.name].partition(":")
                if kind == "fatal":
                    remote.fail_after_pages = 0
                    remote.fail_with = lambda: AuthenticationError("401 credentials rejected")
                elif kind == "retriable" and not Path(marker).exists():
                    Path(marker).touch()
                    remote.fail_after_pages = 0
                    remote.fail_with = lambda: RetriableAPIError("503 service unavailable")
                else:
                    remote.fail_after_pages = None
            return SyncTarget(remote.exchange(), remote.manual())

        register_sync_target(remote.name, target)


if __name__ == "__main__":
    from leadbridge.cli import main

    _register()
    sys.argv = ["leadbridge", "worker", *sys.argv[1:]]
    main()
