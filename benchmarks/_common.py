"""What every benchmark shares: the result record, memory and machine figures."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCALES = ("smoke", "full")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


class Stopwatch:
    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def result(
    name: str,
    db: str,
    n: int,
    seconds: float,
    floor_seconds: float | None,
    peak_rss: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One benchmark record, in the shape DESIGN.md "Benchmarks" gives."""
    return {
        "name": name,
        "db": db,
        "n": n,
        "seconds": round(seconds, 3),
        "rate_per_s": round(n / seconds) if seconds > 0 else None,
        "floor_seconds": round(floor_seconds, 3) if floor_seconds is not None else None,
        "ratio_to_floor": round(seconds / floor_seconds, 2) if floor_seconds else None,
        "peak_rss_mb": peak_rss if peak_rss is not None else peak_rss_mb(),
        "machine": machine(),
        **extra,
    }
