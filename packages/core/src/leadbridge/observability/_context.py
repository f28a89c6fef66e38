"""Who is working right now (integration, run, job, request), for log lines and metric labels.

Context variables follow asyncio tasks, so every log record and remote call made on behalf of
a sync run carries its integration and run id without being passed along.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

#: The keys a log context may hold; log lines carry those that are set.
CONTEXT_KEYS = ("integration", "run_id", "job_id", "request_id")

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "leadbridge_log_context", default=_EMPTY
)


def log_context() -> Mapping[str, Any]:
    """What is bound now (``{}`` outside any run, job or request)."""
    return _context.get()


def bind_log_context(**values: Any) -> contextvars.Token[Mapping[str, Any]]:
    """Add ``values`` (keys from ``CONTEXT_KEYS``) until :func:`reset_log_context` is called."""
    unknown = set(values) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"unknown log context keys: {', '.join(sorted(unknown))}")
    bound = {k: v for k, v in values.items() if v is not None}
    return _context.set({**_context.get(), **bound})


def reset_log_context(token: contextvars.Token[Mapping[str, Any]]) -> None:
    """Restore what was bound before the :func:`bind_log_context` that returned ``token``."""
    _context.reset(token)


@contextmanager
def bound_log_context(**values: Any) -> Iterator[None]:
    """``with bound_log_context(job_id=7): ...``: ``values`` are bound inside the block."""
    token = bind_log_context(**values)
    try:
        yield
    finally:
        reset_log_context(token)


def current_integration() -> str:
    """The integration being worked for, as a metric label (``unknown`` outside a run)."""
    return str(_context.get().get("integration") or "unknown")
