"""Keep each public ``__all__`` complete and sorted (as httpx does)."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "leadbridge",
    "leadbridge.auth",
    "leadbridge.cli",
    "leadbridge.contacts",
    "leadbridge.db",
    "leadbridge.http",
    "leadbridge.observability",
    "leadbridge.integrations",
    "leadbridge.jobs",
    "leadbridge.points",
    "leadbridge.segments",
    "leadbridge.sync",
    "leadbridge.testing",
    "leadbridge.tokens",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_complete_and_sorted(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    public = {
        member
        for member in vars(module)
        if not member.startswith("_") and not isinstance(getattr(module, member), type(importlib))
    } | ({"__version__"} if hasattr(module, "__version__") else set())
    public.discard("annotations")
    assert exported == public
    assert list(module.__all__) == sorted(module.__all__, key=_isort_key)


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions.
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name
