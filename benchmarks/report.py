"""Regenerate the README's benchmark table from ``benchmarks/results/*.json``.

``python -m benchmarks.report`` rewrites the part of README.md between the markers
``<!-- benchmarks:start -->`` and ``<!-- benchmarks:end -->``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def table(results: list[dict[str, object]]) -> str:
    lines = [
        "| benchmark | db | n | seconds | rate/s | floor s | ratio to floor | raw floor s "
        "| ratio to raw floor | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: (str(r["name"]), str(r["db"]))):
        lines.append(
            f"| {r['name']} | {r['db']} | {r['n']:,} | {r['seconds']} | "
            f"{r.get('rate_per_s') or ''} | {r.get('floor_seconds') or ''} | "
            f"{r.get('ratio_to_floor') or ''} | {r.get('raw_floor_seconds') or ''} | "
            f"{r.get('ratio_to_raw_floor') or ''} | {r.get('peak_rss_mb')} |"
        )
    machines = sorted({str(r.get("machine")) for r in results})
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    lines += ["", f"Machine: {'; '.join(machines)}. Table generated {stamp}."]
    return "\n".join(lines)


def main() -> int:
    results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"README.md has no {START} … {END} markers", file=sys.stderr)
        return 1
    body = table(results) if results else "No results yet: run `hatch run bench:run --scale full`."
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")
    print(f"README.md: {len(results)} results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
