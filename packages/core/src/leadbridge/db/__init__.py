"""Database layer: async engine and sessions, the declarative base, migrations."""

from ._base import NAMING_CONVENTION, Base, BigIntPK, JSONDoc, UTCDateTime, utcnow
from ._bulk import COPY_THRESHOLD, BulkInsert, BulkUpdate, OnConflict
from ._busy import is_busy_database_error
from ._chunked import IN_LIST_SIZE, chunked
from ._dialect import dialect_insert, dialect_name, id_set, key_set
from ._engine import READ_ONLY, create_engine, create_session_factory
from ._migrate import alembic_config, current, downgrade, upgrade
from ._status import CORE_BRANCH, MigrationStatus

__all__ = [
    "COPY_THRESHOLD",
    "CORE_BRANCH",
    "IN_LIST_SIZE",
    "NAMING_CONVENTION",
    "READ_ONLY",
    "Base",
    "BigIntPK",
    "BulkInsert",
    "BulkUpdate",
    "JSONDoc",
    "MigrationStatus",
    "OnConflict",
    "UTCDateTime",
    "alembic_config",
    "chunked",
    "create_engine",
    "create_session_factory",
    "current",
    "dialect_insert",
    "dialect_name",
    "downgrade",
    "id_set",
    "is_busy_database_error",
    "key_set",
    "upgrade",
    "utcnow",
]
