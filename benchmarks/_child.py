"""Runs one benchmark module in this fresh process and prints its result as JSON."""

from __future__ import annotations

import importlib
import json
import sys


def main() -> None:
    name, db, scale, url = sys.argv[1:5]
    module = importlib.import_module(f"benchmarks.{name}")
    result = module.run(db=db, scale=scale, database_url=url)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
