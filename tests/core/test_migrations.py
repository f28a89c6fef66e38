from __future__ import annotations

from sqlalchemy import inspect

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


async def test_models_match_migrations(fresh_database_url: str) -> None:
    """Autogenerate finds nothing to do: the hand-written migration equals the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = db.create_engine(fresh_database_url)
    try:
        await db.upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), db.Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []
