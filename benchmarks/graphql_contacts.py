"""Benchmark ``graphql_contacts``: a page of 100 contacts with their tags over GraphQL.

One uvicorn worker serves the gateway in a subprocess; this process generates the load (httpx,
a fixed number of requests, a bounded number in flight) and measures requests/s, p50 and p99
latency and SQL statements per request. The floor is a bare Starlette JSON endpoint, served
the same way, that returns the same document from the same SQL (token check, page, tags).

    python -m benchmarks.graphql_contacts [--db sqlite|postgres] [--scale smoke|full]

``run(db, scale, database_url)`` is what a benchmark runner calls; the database is migrated
and seeded when it holds fewer contacts than the scale asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from ._common import result

NAME = "graphql_contacts"
SCALES = {"smoke": (2_000, 200), "full": (100_000, 2_000)}
CONCURRENCY = 4
ROUNDS = 5
WARMUP = 20
PAGE = 100
ROOT = Path(__file__).resolve().parents[1]

QUERY = """query($after: String) {
  contacts(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id email firstName lastName company points tags } }
  }
}"""


# -- the two servers (built in the uvicorn subprocess) ---------------------------------------


def _count_statements(engine: Any) -> list[int]:
    from sqlalchemy import event

    counter = [0]

    def before(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return counter


def gateway_app() -> Any:
    """uvicorn factory: the gateway, plus a statement counter at ``/__stats``."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from leadbridge import CoreContainer
    from leadbridge_gateway import GatewaySettings, create_app

    core = CoreContainer()
    app = create_app(core, GatewaySettings(), owns_container=True)
    counter = _count_statements(core.engine())

    async def stats(_request: Any) -> JSONResponse:
        return JSONResponse({"statements": counter[0]})

    app.router.routes.append(Route("/__stats", stats))
    return app


def floor_app() -> Any:
    """uvicorn factory: the same document from the same SQL, written the plainest way.

    The same SQLAlchemy statements as the gateway's (token check, page, tags) on one
    read-only connection, rows turned into the JSON document by hand.
    """
    from sqlalchemy import select
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from leadbridge import Settings, db
    from leadbridge.contacts import ContactRow, ContactTagRow, TagRow
    from leadbridge.tokens import ApiTokenRow, hash_token

    engine = db.create_engine(Settings.from_env().database_url)
    reader = engine.execution_options(**{db.READ_ONLY: True})
    counter = _count_statements(engine)
    token_columns = tuple(ApiTokenRow.__table__.columns)
    contact_columns = [c for c in ContactRow.__table__.columns if c.name != "email_key"]

    def cursor(pk: int) -> str:
        raw = json.dumps(["ID:ASC", pk, pk], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    async def contacts(request: Request) -> JSONResponse:
        secret = request.headers.get("authorization", "").removeprefix("Bearer ")
        after = int(request.query_params.get("after", "0"))
        async with reader.connect() as conn:
            token = (
                await conn.execute(
                    select(*token_columns).where(ApiTokenRow.token_hash == hash_token(secret))
                )
            ).first()
            if token is None or token.revoked_at is not None or "contacts:read" not in token.scopes:
                return JSONResponse({"errors": [{"message": "forbidden"}]})
            rows = (
                await conn.execute(
                    select(*contact_columns)
                    .where(ContactRow.id > after)
                    .order_by(ContactRow.id.asc())
                    .limit(PAGE + 1)
                )
            ).all()
            more, rows = len(rows) > PAGE, rows[:PAGE]
            tags: dict[int, list[str]] = {r.id: [] for r in rows}
            if rows:
                for cid, name in (
                    await conn.execute(
                        select(ContactTagRow.contact_id, TagRow.name)
                        .join(TagRow, TagRow.id == ContactTagRow.tag_id)
                        .where(ContactTagRow.contact_id.in_(set(tags)))
                        .order_by(ContactTagRow.contact_id, TagRow.name)
                    )
                ).all():
                    tags[cid].append(name)
        edges = [
            {
                "cursor": cursor(r.id),
                "node": {
                    "id": base64.b64encode(f"Contact:{r.id}".encode()).decode(),
                    "email": r.email,
                    "firstName": r.first_name,
                    "lastName": r.last_name,
                    "company": r.company,
                    "points": r.points,
                    "tags": tags[r.id],
                },
            }
            for r in rows
        ]
        page_info = {"hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None}
        return JSONResponse({"data": {"contacts": {"pageInfo": page_info, "edges": edges}}})

    async def stats(_request: Request) -> JSONResponse:
        return JSONResponse({"statements": counter[0]})

    return Starlette(routes=[Route("/contacts", contacts), Route("/__stats", stats)])


# -- the load generator ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    def __init__(self, factory: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"benchmarks.{NAME}:{factory}",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            # This process's stdout carries the result line for the benchmark runner.
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def wait(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the {self.url} server exited at start")
                try:
                    await client.get(self.url + "/__stats")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        raise RuntimeError(f"the server at {self.url} did not start")

    def peak_rss_mb(self) -> float:
        try:  # VmHWM: the peak resident set of the server process (Linux)
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        import psutil

        return round(psutil.Process(self.process.pid).memory_info().rss / 2**20, 1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def _load(
    client: httpx.AsyncClient, requests: Sequence[tuple[str, dict[str, Any]]]
) -> tuple[float, list[float]]:
    """Send every request, ``CONCURRENCY`` at a time; wall seconds and latencies (ms)."""
    queue = list(reversed(requests))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            method, kwargs = queue.pop()
            start = time.perf_counter()
            response = await client.request(method, **kwargs)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(f"benchmark request failed: {response.text[:300]}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - start, latencies


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _prepare(database_url: str, n: int) -> str:
    """Migrate, seed ``n`` contacts with tags when missing, and return a read token."""
    from dependency_injector import providers

    from leadbridge import CoreContainer, Settings, db, shutdown

    settings = Settings(
        database_url=database_url,
        data_dir=Path(tempfile.gettempdir()),
        secret_key=Fernet.generate_key().decode(),
    )
    core = CoreContainer(settings=providers.Object(settings))
    try:
        from leadbridge.integrations import installed_migration_locations

        await db.upgrade(core.engine(), installed_migration_locations())
        contacts = core.contact_service()
        have = await contacts.count()
        rng = random.Random(42)
        tags = [f"tag{i:02}" for i in range(20)]
        batch: list[dict[str, Any]] = []
        for i in range(have, n):
            batch.append(
                {
                    "email": f"contact{i:06}@example.com",
                    "first_name": f"First{i}",
                    "last_name": f"Last{i}",
                    "company": f"Company {i % 997}",
                    "tags": rng.sample(tags, rng.randint(1, 4)),
                }
            )
            if len(batch) == 5000:
                await contacts.bulk_upsert(batch, on_error="raise")
                batch = []
        if batch:
            await contacts.bulk_upsert(batch, on_error="raise")
        issued = await core.token_service().create("benchmark", ["contacts:read"])
        return issued.secret
    finally:
        await shutdown(core)


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    from leadbridge_gateway._schema._relay import encode_cursor

    n, count = SCALES[scale]
    secret = await _prepare(database_url, n)
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": database_url,
        "LEADBRIDGE_DATA_DIR": tempfile.gettempdir(),
        "LEADBRIDGE_SECRET_KEY": Fernet.generate_key().decode(),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    rng = random.Random(7)
    starts = [rng.randrange(0, max(1, n - PAGE)) for _ in range(count + WARMUP)]
    auth = {"Authorization": f"Bearer {secret}"}

    def graphql(after: int) -> tuple[str, dict[str, Any]]:
        variables = {"after": encode_cursor("ID:ASC", after, after) if after else None}
        return "POST", {
            "url": "/graphql",
            "json": {"query": QUERY, "variables": variables},
            "headers": auth,
        }

    def floor(after: int) -> tuple[str, dict[str, Any]]:
        return "GET", {"url": "/contacts", "params": {"after": after}, "headers": auth}

    builders = {"gateway": graphql, "floor": floor}
    servers = {
        "gateway": _Server("gateway_app", env),
        "floor": _Server("floor_app", env),
    }
    results: dict[str, Any] = {
        label: {"seconds": 0.0, "latencies": [], "statements": 0} for label in servers
    }
    try:
        clients = {}
        for label, server in servers.items():
            await server.wait()
            clients[label] = httpx.AsyncClient(
                base_url=server.url, limits=httpx.Limits(max_connections=CONCURRENCY), timeout=60
            )
        for label, client in clients.items():
            build = builders[label]
            await _load(client, [build(a) for a in starts[:WARMUP]])
            method, sample = build(starts[0])
            results[f"{label}_sample"] = (await client.request(method, **sample)).json()
        # Rounds alternate between the two servers, so that a change of load on the machine
        # weighs on both sides alike.
        measured = starts[WARMUP:]
        step = max(1, len(measured) // ROUNDS)
        for offset in range(0, len(measured), step):
            for label, client in clients.items():
                build = builders[label]
                before = (await client.get("/__stats")).json()["statements"]
                chunk = [build(a) for a in measured[offset : offset + step]]
                seconds, latencies = await _load(client, chunk)
                after = (await client.get("/__stats")).json()["statements"]
                results[label]["seconds"] += seconds
                results[label]["latencies"] += latencies
                results[label]["statements"] += after - before
        for label, server in servers.items():
            results[label]["statements"] /= count
            results[label]["rss"] = server.peak_rss_mb()
            await clients[label].aclose()
    finally:
        for server in servers.values():
            server.stop()
    if results["gateway_sample"] != results["floor_sample"]:
        raise RuntimeError("the floor does not return the same document as the gateway")
    gateway, floor_ = results["gateway"], results["floor"]
    requests_per_s = round(count / gateway["seconds"], 1)
    return result(
        NAME,
        db,
        n,
        gateway["seconds"],
        floor_["seconds"],
        peak_rss=gateway["rss"],  # the server process's, where the gateway runs
        # n counts contacts; the rate that means something here is requests per second.
        rate_per_s=requests_per_s,
        requests=count,
        requests_per_s=requests_per_s,
        p50_ms=round(statistics.median(gateway["latencies"]), 2),
        p99_ms=round(_percentile(gateway["latencies"], 0.99), 2),
        statements_per_request=round(gateway["statements"], 2),
        floor_requests_per_s=round(count / floor_["seconds"], 1),
        floor_p50_ms=round(statistics.median(floor_["latencies"]), 2),
        floor_p99_ms=round(_percentile(floor_["latencies"], 0.99), 2),
        floor_statements_per_request=round(floor_["statements"], 2),
        concurrency=CONCURRENCY,
    )


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    """Measure on ``database_url`` (migrated and seeded here) at ``scale`` (smoke or full)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    return asyncio.run(_run(db, scale, database_url))


def main(argv: list[str] | None = None) -> None:
    from leadbridge.testing import create_database, drop_database

    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{NAME}")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", choices=tuple(SCALES), default="smoke")
    parser.add_argument("--no-write", action="store_true", help="do not write results/")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = asyncio.run(create_database(args.db, Path(tmp)))
        try:
            row = run(args.db, args.scale, url)
        finally:
            asyncio.run(drop_database(url))
    if not args.no_write:
        out = ROOT / "benchmarks" / "results" / f"{NAME}-{args.db}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
