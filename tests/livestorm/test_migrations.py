from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from leadbridge import db
from leadbridge_livestorm import MIGRATIONS, LivestormBase


async def test_livestorm_branch_upgrades_downgrades_and_matches_models(
    fresh_database_url: str,
) -> None:
    engine = db.create_engine(fresh_database_url)
    try:
        await db.upgrade(engine, [MIGRATIONS])
        status = await db.current(engine, [MIGRATIONS])
        assert status["livestorm"]["up_to_date"] and status["core"]["up_to_date"]
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), LivestormBase.metadata)
            )
        assert {"livestorm_events", "livestorm_sessions", "livestorm_registrations"} <= tables
        # only core's tables (and their indexes) and, on PostgreSQL, the job queue's
        # (procrastinate_*) are unknown to the plugin's metadata
        core = set(db.Base.metadata.tables)

        def known(table: str) -> bool:
            return table in core or table.startswith("procrastinate_")

        ours = [
            d
            for d in diff
            if not (d[0] == "remove_table" and known(d[1].name))
            and not (d[0] == "remove_index" and known(d[1].table.name))
        ]
        assert ours == []
        await db.downgrade(engine, [MIGRATIONS], "livestorm@base")
        status = await db.current(engine, [MIGRATIONS])
        assert status["livestorm"]["current"] is None and status["core"]["up_to_date"]
    finally:
        await engine.dispose()
