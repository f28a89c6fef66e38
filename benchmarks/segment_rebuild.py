"""segment_rebuild: rebuild a 4-filter segment over many contacts with custom fields.

The segment: email ``endsWith`` ".com", custom number ``score gt 20``, custom date
``signup_date gte "-365 days"`` (a relative date against a frozen clock) and ``tags in
[lead, vip]`` — about a fifth of the contacts. Measured: the rebuild from empty (``seconds``),
then again after 1% of the contacts changed (``details.incremental_seconds``). The floor is one
hand-written ``INSERT … SELECT`` of the same predicate into ``segment_members``. Each figure is
the best of a few runs. Contacts are seeded with set-based SQL, so nothing big lives in Python.

Run: ``hatch run bench:run segment_rebuild --db sqlite --scale full``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from leadbridge import db as lbdb
from leadbridge.contacts import CustomFieldService
from leadbridge.segments import SegmentService
from leadbridge.testing import truncate_all

from ._common import result as record

NAME = "segment_rebuild"
SCALES = {"smoke": 10_000, "full": 1_000_000}
NOW = datetime(2025, 6, 15, 9, 30, tzinfo=UTC)
REPEAT = 3
FILTERS = [
    {"field": "email", "operator": "endsWith", "value": ".com"},
    {"field": "score", "operator": "gt", "value": 20},
    {"field": "signup_date", "operator": "gte", "value": "-365 days"},
    {"field": "tags", "operator": "in", "value": ["lead", "vip"]},
]
_SINCE = (NOW.date() - timedelta(days=365)).isoformat()  # what "-365 days" means here

# Deterministic spreads: multiplying by a prime and taking a remainder decorrelates the filters.
_SEED_SQLITE = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
INSERT INTO contacts (id, email, email_key, first_name, last_name, company, city, points,
                      fields, created_at, updated_at)
SELECT i,
       'User' || i || '@' || d.domain, 'user' || i || '@' || d.domain,
       'First' || i, 'Last' || (i % 997), 'Company ' || (i % 5003), 'City ' || (i % 211), i % 100,
       json_object('score', (i * 7919) % 100,
                   'signup_date', date('2023-06-16', '+' || ((i * 104729) % 730) || ' days'),
                   'plan', CASE i % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END),
       '2023-01-01 00:00:00.000000', '2023-01-01 00:00:00.000000'
FROM seq JOIN (SELECT 0 AS k, 'example.com' AS domain UNION ALL SELECT 1, 'acme.com'
               UNION ALL SELECT 2, 'mail.org' UNION ALL SELECT 3, 'corp.com') AS d
     ON d.k = seq.i % 4
"""
_SEED_PG = """
INSERT INTO contacts (id, email, email_key, first_name, last_name, company, city, points,
                      fields, created_at, updated_at)
SELECT i,
       'User' || i || '@' || d.domain, 'user' || i || '@' || d.domain,
       'First' || i, 'Last' || (i % 997), 'Company ' || (i % 5003), 'City ' || (i % 211), i % 100,
       jsonb_build_object('score', (i * 7919::bigint) % 100,
                          'signup_date', to_char(date '2023-06-16'
                                                 + ((i * 104729::bigint) % 730)::int,
                                                 'YYYY-MM-DD'),
                          'plan', CASE i % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END),
       timestamptz '2023-01-01 00:00:00+00', timestamptz '2023-01-01 00:00:00+00'
FROM generate_series(1, :n) AS i
JOIN (VALUES (0, 'example.com'), (1, 'acme.com'), (2, 'mail.org'), (3, 'corp.com'))
     AS d(k, domain) ON d.k = i % 4
"""
_TAGS = """
INSERT INTO contact_tags (contact_id, tag_id)
SELECT c.id, t.id FROM contacts c JOIN tags t
  ON (t.name = 'lead' AND c.id % 2 = 0) OR (t.name = 'vip' AND c.id % 3 = 0)
  OR (t.name = 'news' AND c.id % 5 = 0)
"""
# 1% of the contacts: the score jumps by 50 (crossing the threshold both ways).
_CHANGE_SQLITE = """
UPDATE contacts SET fields = json_set(fields, '$.score',
                                      (json_extract(fields, '$.score') + 50) % 100),
                    updated_at = '2025-06-15 09:00:00.000000'
WHERE (id / 7) % 100 = 3
"""
_CHANGE_PG = """
UPDATE contacts SET fields = jsonb_set(fields, '{score}',
                                       to_jsonb(((fields ->> 'score')::int + 50) % 100)),
                    updated_at = timestamptz '2025-06-15 09:00:00+00'
WHERE (id / 7) % 100 = 3
"""
_TAGGED = """EXISTS (SELECT 1 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
                     WHERE ct.contact_id = c.id AND t.name IN ('lead', 'vip'))"""
_FLOOR_SQLITE = f"""
INSERT INTO segment_members (segment_id, contact_id, manually_added, manually_removed, added_at)
SELECT 0, c.id, 0, 0, '2025-06-15 09:30:00.000000' FROM contacts c
WHERE c.email_key LIKE '%.com' AND json_extract(c.fields, '$.score') > 20
  AND json_extract(c.fields, '$.signup_date') >= :since AND {_TAGGED}
"""
_FLOOR_PG = f"""
INSERT INTO segment_members (segment_id, contact_id, manually_added, manually_removed, added_at)
SELECT 0, c.id, false, false, timestamptz '2025-06-15 09:30:00+00' FROM contacts c
WHERE c.email_key LIKE '%.com' AND (c.fields ->> 'score')::float > 20
  AND c.fields ->> 'signup_date' >= :since AND {_TAGGED}
"""


async def _timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = await fn()
    return time.perf_counter() - started, out


async def _maintain(engine: AsyncEngine, postgres: bool) -> None:
    """Fresh statistics (and, on PostgreSQL, no dead rows) before measuring."""
    if postgres:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def _bench(db: str, n: int, database_url: str) -> dict[str, Any]:
    postgres = db == "postgres"
    engine = lbdb.create_engine(database_url)
    try:
        await truncate_all(engine)  # the runner gives a migrated database
        session_factory = lbdb.create_session_factory(engine)
        fields = CustomFieldService(session_factory)
        await fields.define("score", "number")
        await fields.define("signup_date", "date")
        await fields.define("plan", "select", options=["free", "pro", "team"])
        seed_started = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(text(_SEED_PG if postgres else _SEED_SQLITE), {"n": n})
            await conn.execute(text("INSERT INTO tags (name) VALUES ('lead'), ('vip'), ('news')"))
            await conn.execute(text(_TAGS))
            if postgres:  # ids were given explicitly: move the sequence past them
                await conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('contacts', 'id'), :n)"), {"n": n}
                )
        seed_seconds = time.perf_counter() - seed_started
        await _maintain(engine, postgres)

        floor_sql = text(_FLOOR_PG if postgres else _FLOOR_SQLITE)
        floors: list[float] = []
        floor_rows = 0
        for _ in range(REPEAT):
            async with engine.begin() as conn:
                started = time.perf_counter()
                if postgres:  # the settings the service's rebuild runs with (see _service.py)
                    await conn.execute(
                        text(
                            "SELECT set_config('enable_nestloop', 'off', true),"
                            " set_config('work_mem', '64MB', true)"
                        )
                    )
                floor_rows = (await conn.execute(floor_sql, {"since": _SINCE})).rowcount
            floors.append(time.perf_counter() - started)  # commit included, as for ours
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM segment_members"))
            await _maintain(engine, postgres)

        service = SegmentService(session_factory, clock=lambda: NOW)
        segment = await service.create("Benchmark", alias="bench", filters=FILTERS)
        fulls: list[float] = []
        result = None
        for attempt in range(REPEAT):
            if attempt:
                async with engine.begin() as conn:
                    await conn.execute(text("DELETE FROM segment_members"))
                await _maintain(engine, postgres)
            seconds, result = await _timed(lambda: service.rebuild(segment.id))
            fulls.append(seconds)
        assert result is not None
        if result.total != floor_rows:
            raise RuntimeError(f"the segment has {result.total} members, the floor {floor_rows}")

        async with engine.begin() as conn:
            await conn.execute(text(_CHANGE_PG if postgres else _CHANGE_SQLITE))
        await _maintain(engine, postgres)
        incremental, changed = await _timed(lambda: service.rebuild(segment.id))
        unchanged, _same = await _timed(lambda: service.rebuild(segment.id))
    finally:
        await engine.dispose()

    return record(
        NAME,
        db,
        n,
        min(fulls),
        min(floors),
        details={
            "members": result.total,
            "full_runs": [round(s, 3) for s in fulls],
            "floor_runs": [round(s, 3) for s in floors],
            "incremental_seconds": round(incremental, 3),
            "incremental_added": changed.added,
            "incremental_removed": changed.removed,
            "unchanged_seconds": round(unchanged, 3),
            "seed_seconds": round(seed_seconds, 1),
        },
    )


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    """Run the benchmark on ``database_url`` (emptied first) and return its result row."""
    if db not in ("sqlite", "postgres"):
        raise ValueError(f"db must be sqlite or postgres, not {db!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    return asyncio.run(_bench(db, SCALES[scale], database_url))
