from __future__ import annotations

from tests._cli import cli

__all__ = ["cli"]
