"""How the gateway answers database contention (a lock held too long, a full pool...).

Core's :func:`leadbridge.db.is_busy_database_error` recognises it; the same request succeeds
once the database is free, so the gateway answers it as retryable (``503`` with
``Retry-After`` on plain HTTP routes, a ``SERVICE_UNAVAILABLE`` GraphQL error) instead of
masking it as an internal error.
"""

from __future__ import annotations

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 5
#: What the client is told.
BUSY_MESSAGE = (
    f"the database is busy (another process holds a lock); retry in {RETRY_AFTER_SECONDS} s"
)
