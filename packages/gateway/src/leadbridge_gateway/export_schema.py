"""Write (or check) ``schema.graphql``, the SDL of the gateway's schema.

python -m leadbridge_gateway.export_schema            # rewrite packages/gateway/schema.graphql
python -m leadbridge_gateway.export_schema --check    # exit 1 when the file is out of date
python -m leadbridge_gateway.export_schema PATH       # write elsewhere ('-' for stdout)

The schema includes the ``Contact`` fields of every installed plugin, whatever
``LEADBRIDGE_PLUGINS`` says, so that the file depends only on what is installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leadbridge import CoreContainer
from leadbridge.integrations import BaseContactData, IntegrationRegistry

from ._schema import build_schema

#: Where the checked-in copy lives in a source checkout.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"


def installed_contact_data() -> list[BaseContactData]:
    """The contact data of every installed plugin (mounting them opens no connection)."""
    return IntegrationRegistry(CoreContainer()).contact_data()


def schema_sdl() -> str:
    return str(build_schema(contact_data=installed_contact_data())).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadbridge_gateway.export_schema")
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--check", action="store_true", help="fail when the file differs")
    args = parser.parse_args(argv)
    sdl = schema_sdl()
    if args.path == "-":
        sys.stdout.write(sdl)
        return 0
    path = Path(args.path)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != sdl:
            print(
                f"{path} is out of date: run python -m leadbridge_gateway.export_schema",
                file=sys.stderr,
            )
            return 1
        return 0
    path.write_text(sdl, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
