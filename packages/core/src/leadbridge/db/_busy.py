"""Database contention: a lock or statement timeout, a serialization failure, a full pool.

These say nothing about the work that failed: the same work succeeds once the database is
free, so a caller answers them as retryable (an HTTP ``503`` with ``Retry-After``, a job
retried later) instead of as an internal error.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

# PostgreSQL's SQLSTATEs of contention: lock_not_available (lock_timeout, NOWAIT),
# query_canceled (statement_timeout), serialization_failure, deadlock_detected.
_PG_BUSY = frozenset({"55P03", "57014", "40001", "40P01"})
# SQLite's messages for SQLITE_BUSY and SQLITE_LOCKED.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")


def is_busy_database_error(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) is database contention.

    True for SQLite's "database is locked" (the busy timeout ran out), PostgreSQL's lock
    timeout, statement timeout, serialization failure and deadlock, and a connection pool
    whose every connection stayed in use; the chain of ``__cause__``/``__context__`` is
    followed, so a wrapped error is recognised too.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa_exc.TimeoutError):  # every pooled connection stayed in use
            return True
        if isinstance(error, sqlite3.OperationalError) and str(error).startswith(_SQLITE_BUSY):
            return True
        if getattr(error, "sqlstate", None) in _PG_BUSY:
            return True
        if isinstance(error, sa_exc.DBAPIError) and is_busy_database_error(error.orig):
            return True
        error = error.__cause__ or error.__context__
    return False
