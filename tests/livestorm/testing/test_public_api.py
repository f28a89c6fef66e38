"""The public surfaces of leadbridge_livestorm and its testing package stay curated."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["leadbridge_livestorm", "leadbridge_livestorm.testing"]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_complete_and_sorted(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        member
        for member in vars(module)
        if not member.startswith("_") and not isinstance(getattr(module, member), type(importlib))
    } | ({"__version__"} if hasattr(module, "__version__") else set())
    public.discard("annotations")

    assert set(module.__all__) == public
    assert list(module.__all__) == sorted(module.__all__, key=_ruff_order)


def _ruff_order(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name
