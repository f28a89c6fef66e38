"""Install throwaway plugins the way pip would: a ``*.dist-info`` with ``entry_points.txt``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest


def install_plugins(
    directory: Path,
    monkeypatch: pytest.MonkeyPatch | None,
    entry_points: Mapping[str, str],
    *,
    group: str | None = None,
) -> str:
    """Register ``entry_points`` (``name -> "module:Class"``) in a distribution on ``sys.path``.

    The modules must already be in ``directory``, which ``monkeypatch`` puts on ``sys.path``
    (``None``: for subprocesses only). Returns the entry point group: a fresh one of its own
    unless ``group`` is given (``leadbridge.integrations`` installs a real plugin).
    """
    suffix = uuid.uuid4().hex[:8]
    group = group or f"leadbridge.test-integrations-{suffix}"
    dist_info = directory / f"test_plugins_{suffix}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: test-plugins-{suffix}\nVersion: 1.0\n"
    )
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (dist_info / "entry_points.txt").write_text(f"[{group}]\n{lines}\n")
    if monkeypatch is not None:
        monkeypatch.syspath_prepend(str(directory))
    return group
