"""CPU seconds beside wall seconds: on a loaded machine the wall-clock ratio to the floor
swings with the other processes' load; this process's CPU time (``time.process_time``: every
thread, so SQLite's driver thread too, not the database server or the fake API process) shows
the Python work per object far more steadily."""

from __future__ import annotations


def cpu_figures(cpu_seconds: float, floor_cpu_seconds: float) -> dict[str, float | None]:
    """``cpu_seconds``, ``floor_cpu_seconds`` and their ratio, for a result record."""
    return {
        "cpu_seconds": round(cpu_seconds, 3),
        "floor_cpu_seconds": round(floor_cpu_seconds, 3),
        "cpu_ratio_to_floor": round(cpu_seconds / floor_cpu_seconds, 2)
        if floor_cpu_seconds
        else None,
    }
