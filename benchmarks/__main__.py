"""Run benchmarks: ``python -m benchmarks [NAME …] [--db sqlite|postgres] [--scale smoke|full]``.

Each benchmark runs in a fresh process (so that ``peak_rss_mb`` is its own) against a fresh,
migrated database that is dropped afterwards; it prints one table row and, at full scale (or
with ``--write``), writes ``benchmarks/results/NAME-DB.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def available() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(HERE)])
        if not m.name.startswith("_") and m.name not in ("report",)
    )


async def _create(db: str, directory: Path) -> str:
    from leadbridge import db as lbdb
    from leadbridge.testing import create_database

    url = await create_database(db, directory)
    engine = lbdb.create_engine(url)
    try:
        await lbdb.upgrade(engine, _locations())
    finally:
        await engine.dispose()
    return url


def _locations() -> list[Path]:
    try:
        integrations = importlib.import_module("leadbridge.integrations")
    except ImportError:
        return []
    hook = getattr(integrations, "installed_migration_locations", None)
    return list(hook()) if hook is not None else []


def run_one(name: str, db: str, scale: str) -> dict[str, Any]:
    from leadbridge.testing import drop_database

    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        url = asyncio.run(_create(db, Path(tmp)))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks._child", name, db, scale, url],
                capture_output=True,
                text=True,
                cwd=HERE.parent,
                check=False,
            )
        finally:
            asyncio.run(drop_database(url))
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark {name} on {db} failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {available()})")
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--scale", choices=["smoke", "full"], default="smoke")
    parser.add_argument("--write", action="store_true", help="write results at smoke scale too")
    parser.add_argument("--no-write", action="store_true", help="never write results")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available())}")
    dbs = args.db or ["sqlite", "postgres"]
    write = not args.no_write and (args.scale == "full" or args.write)
    print(
        f"{'name':<22} {'db':<9} {'n':>9} {'seconds':>9} {'rate/s':>10} "
        f"{'floor s':>9} {'ratio':>6} {'raw':>6} {'rss MB':>7}"
    )
    failed = 0
    for name in names:
        for db in dbs:
            try:
                res = run_one(name, db, args.scale)
            except RuntimeError as exc:
                failed += 1
                print(f"{name:<22} {db:<9} FAILED", flush=True)
                print(exc, file=sys.stderr)
                continue
            print(
                f"{res['name']:<22} {res['db']:<9} {res['n']:>9} {res['seconds']:>9} "
                f"{res.get('rate_per_s') or '':>10} {res.get('floor_seconds') or '':>9} "
                f"{res.get('ratio_to_floor') or '':>6} {res.get('ratio_to_raw_floor') or '':>6} "
                f"{res['peak_rss_mb']:>7}",
                flush=True,
            )
            if write:
                RESULTS.mkdir(exist_ok=True)
                (RESULTS / f"{name}-{db}.json").write_text(json.dumps(res, indent=2) + "\n")
    if write:
        from .report import main as report

        report()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
