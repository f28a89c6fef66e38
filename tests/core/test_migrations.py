from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from leadbridge import db


async def _tables(url: str) -> set[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_and_downgrade_to_base(fresh_database_url: str) -> None:
    engine = db.create_engine(fresh_database_url)
    try:
        before = await db.current(engine)
        assert before["core"]["current"] is None and not before["core"]["up_to_date"]
        await db.upgrade(engine)
        assert {"contacts", "custom_fields", "tags", "contact_tags", "contact_changes"} <= (
            await _tables(fresh_database_url)
        )
        status = await db.current(engine)
        assert status["core"]["up_to_date"]
        await db.downgrade(engine)
        assert await _tables(fresh_database_url) <= {"alembic_version"}
        await db.upgrade(engine)  # and up again from base
        assert (await db.current(engine))["core"]["up_to_date"]
    finally:
        await engine.dispose()


def _ours(name: str | None, type_: str, _parents: object) -> bool:
    """procrastinate's tables are its own (installed from its schema on PostgreSQL)."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


async def test_jobs_migration_on_a_database_of_the_previous_head(
    fresh_database_url: str, db_backend: str
) -> None:
    """Data written before the jobs branch survives it, both ways; the queue comes and goes."""
    engine = db.create_engine(fresh_database_url)
    try:
        await db.upgrade(engine)
        await db.downgrade(engine, revision="jobs@base")
        assert "schedules" not in await _tables(fresh_database_url)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO contacts (email, email_key, points, fields, created_at, "
                    "updated_at) "
                    "VALUES ('kept@example.com', 'kept@example.com', 3, '{}', :now, :now)"
                ),
                {"now": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            await conn.execute(
                text(
                    "INSERT INTO sync_runs (integration, trigger, options, status, started_at, "
                    "heartbeat_at, holder, cancel_requested, pulled, created, updated, unchanged, "
                    "conflicts, pushed, failed, skipped, api_calls) VALUES ('memory', 'cli', '{}', "
                    "'succeeded', :now, :now, 'h:1', false, 1, 1, 0, 0, 0, 0, 0, 0, 1)"
                ),
                {"now": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        await db.upgrade(engine)
        tables = await _tables(fresh_database_url)
        assert {"schedules", "job_errors"} <= tables
        assert ("procrastinate_jobs" in tables) == (db_backend == "postgres")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT email, points FROM contacts"))).all() == [
                ("kept@example.com", 3)
            ]
            assert (await conn.execute(text("SELECT status FROM sync_runs"))).scalars().all() == [
                "succeeded"
            ]
        await db.downgrade(engine, revision="jobs@base")
        assert not {t for t in await _tables(fresh_database_url) if "procrastinate" in t}
        if db_backend == "postgres":
            async with engine.connect() as conn:
                left = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_proc p JOIN pg_namespace n "
                        "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
                        "AND p.proname LIKE 'procrastinate%'"
                    )
                )
                types_left = await conn.scalar(
                    text("SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%'")
                )
            assert (left, types_left) == (0, 0)
        await db.upgrade(engine)  # and up again
        assert (await db.current(engine))["jobs"]["up_to_date"]
    finally:
        await engine.dispose()


async def test_models_match_migrations(fresh_database_url: str) -> None:
    """Autogenerate finds nothing to do: the hand-written migration equals the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = db.create_engine(fresh_database_url)
    try:
        await db.upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"include_name": _ours}), db.Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
