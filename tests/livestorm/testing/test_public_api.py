"""The public surfaces of leadbridge_livestorm and its testing package stay curated."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

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


INTEGRATION_MODULES = ["_client", "_errors", "_mapping", "_push", "_quota", "_store", "_webhooks"]


def _defined_in(module: str) -> set[str]:
    """Top-level names a module defines itself (not the ones it imports)."""
    source = Path(importlib.import_module(module).__file__ or "").read_text()
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_integrations_public_names_are_documented_in_the_readme() -> None:
    import leadbridge_livestorm

    readme = (Path(leadbridge_livestorm.__file__ or "").parents[2] / "README.md").read_text()
    defined = set().union(*(_defined_in(f"leadbridge_livestorm.{m}") for m in INTEGRATION_MODULES))
    public = [name for name in leadbridge_livestorm.__all__ if name in defined]

    assert len(public) > 40
    assert [name for name in public if not re.search(rf"\b{name}\b", readme)] == []
