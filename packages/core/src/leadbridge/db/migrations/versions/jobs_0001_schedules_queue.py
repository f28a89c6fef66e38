"""jobs: schedules, job errors; on PostgreSQL, procrastinate's job queue

Revision ID: jobs_0001
Revises:
Create Date: 2026-12-04

On PostgreSQL this installs the schema of the procrastinate version LeadBridge depends on, so
that ``leadbridge db upgrade`` is the only command an operator runs. A later procrastinate
whose schema changes comes with a LeadBridge migration applying its migration files.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import BigIntPK, UTCDateTime

revision: str = "jobs_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("jobs",)
depends_on: str | Sequence[str] | None = ("sync_0002", "segments_0001")

# Every object procrastinate's schema creates is named procrastinate_*; the catalog knows them.
_DROP_QUEUE = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT format('%I', tablename) FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || name || ' CASCADE';
    END LOOP;
    FOR name IN SELECT p.oid::regprocedure::text FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || name || ' CASCADE';
    END LOOP;
    FOR name IN SELECT format('%I', t.typname) FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                  AND t.typtype IN ('e', 'c') LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || name || ' CASCADE';
    END LOOP;
END
$$;
"""


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255)),
        sa.Column("cron", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("last_fired_at", UTCDateTime),
        sa.Column("next_due_at", UTCDateTime, nullable=False),
        sa.Column("last_outcome", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
    )
    op.create_index("ix_schedules_enabled_next_due_at", "schedules", ["enabled", "next_due_at"])
    op.create_table(
        "job_errors",
        sa.Column("job_id", BigIntPK, primary_key=True, autoincrement=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("failed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_job_errors"),
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _execute_script(_DROP_QUEUE)
    op.drop_table("job_errors")
    op.drop_index("ix_schedules_enabled_next_due_at", table_name="schedules")
    op.drop_table("schedules")


def _execute_script(script: str) -> None:
    """Run a multi-statement SQL script in the migration's transaction."""
    bind = op.get_bind()
    driver = bind.connection.driver_connection
    if bind.dialect.driver == "asyncpg":
        from sqlalchemy.util import await_only

        # asyncpg runs a script without parameters through the simple query protocol.
        await_only(driver.execute(script))  # type: ignore[union-attr]
    else:
        bind.exec_driver_sql(script.replace("%", "%%"))
