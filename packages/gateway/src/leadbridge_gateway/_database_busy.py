"""Database contention: a lock or statement timeout, a serialization failure, a full pool.

These say nothing about the request: the same request succeeds once the database is free.
The gateway answers them as retryable (``503`` with ``Retry-After`` on plain HTTP routes, a
``SERVICE_UNAVAILABLE`` GraphQL error) instead of masking them as internal errors.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 5
#: What the client is told.
BUSY_MESSAGE = (
    f"the database is busy (another process holds a lock); retry in {RETRY_AFTER_SECONDS} s"
)

# PostgreSQL's SQLSTATEs of contention: lock_not_available (lock_timeout, NOWAIT),
# query_canceled (statement_timeout), serialization_failure, deadlock_detected.
_PG_BUSY = frozenset({"55P03", "57014", "40001", "40P01"})
# SQLite's messages for SQLITE_BUSY and SQLITE_LOCKED.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")


def is_database_busy(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) is database contention."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa_exc.TimeoutError):  # every pooled connection stayed in use
            return True
        if isinstance(error, sqlite3.OperationalError) and str(error).startswith(_SQLITE_BUSY):
            return True
        if getattr(error, "sqlstate", None) in _PG_BUSY:
            return True
        if isinstance(error, sa_exc.DBAPIError) and is_database_busy(error.orig):
            return True
        error = error.__cause__ or error.__context__
    return False
