"""Each package builds a wheel and an sdist alone and installs alone into a clean virtualenv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from leadbridge.testing import backend_from_env

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "core": ("leadbridge_core", "leadbridge"),
    "livestorm": ("leadbridge_livestorm", "leadbridge_livestorm"),
    "gateway": ("leadbridge_gateway", "leadbridge_gateway"),
}

pytestmark = pytest.mark.skipif(
    backend_from_env() != "sqlite",
    reason="database-independent: runs once, in the sqlite environment",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    hatch = shutil.which("hatch")
    builder = [hatch, "build"] if hatch else [sys.executable, "-m", "build"]
    for folder in PACKAGES:
        proc = subprocess.run(
            [*builder, str(out)],
            cwd=ROOT / "packages" / folder,
            capture_output=True,
            text=True,
            # hatch test exports its own environment's variables; the build must not see them.
            env={k: v for k, v in os.environ.items() if not k.startswith("HATCH_")},
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_package_builds_and_installs_alone(dist: Path, folder: str, tmp_path: Path) -> None:
    dist_name, module = PACKAGES[folder]
    wheels = list(dist.glob(f"{dist_name}-*.whl"))
    sdists = list(dist.glob(f"{dist_name}-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # Sibling packages come from the freshly built wheels, everything else from the index.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--find-links", str(dist), str(wheels[0])],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        timeout=600,
    )
    subprocess.run([str(python), "-c", f"import {module}"], check=True, timeout=60)
    version = subprocess.run(
        [str(env_dir / "bin" / "leadbridge"), "--version"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "leadbridge-core" in version
    if folder != "core":
        assert f"leadbridge-{folder}" in version
