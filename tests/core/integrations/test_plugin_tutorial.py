"""The plugin tutorial (``packages/core/PLUGIN_TUTORIAL.md``) is enough to write a plugin.

Every code block of the tutorial that starts with ``# file: PATH`` is written to PATH in a
temporary directory, installed as a distribution (a ``*.dist-info`` with the entry points of
the tutorial's ``pyproject.toml``), then used as its author would: its own tests run with
LeadBridge's test kit in a pytest of their own, and ``leadbridge`` commands in a shell
configure it, call its command and sync it against its fake Postbox on loopback into this
session's database.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from leadbridge import CoreContainer, Settings

from ._installed import install_plugins

TUTORIAL = Path(__file__).parents[3] / "packages" / "core" / "PLUGIN_TUTORIAL.md"
BLOCK = re.compile(r"^```(?:python|toml)\n# file: (?P<path>\S+)\n(?P<code>.*?)^```$", re.M | re.S)
DEADLINE = 240  # seconds a subprocess may take on a loaded machine before the test fails


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tutorial's files, written out and installed (for subprocesses)."""
    root = tmp_path_factory.mktemp("leadbridge-postbox")
    blocks = list(BLOCK.finditer(TUTORIAL.read_text()))
    for block in blocks:
        target = root / block["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block["code"])
    written = {block["path"] for block in blocks}
    assert {
        "pyproject.toml",
        "leadbridge_postbox/_container.py",
        "tests/test_postbox.py",
    } <= written
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    entry_points = project["entry-points"]["leadbridge.integrations"]
    install_plugins(root, None, entry_points, group="leadbridge.integrations")
    return root


def _environment(package: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LEADBRIDGE_"))}
    env.update({k: v for k, v in os.environ.items() if k.startswith("LEADBRIDGE_TEST_")})
    env["PYTHONPATH"] = os.pathsep.join([str(package), env.get("PYTHONPATH", "")])
    env.update(variables)
    return env


def _run(package: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def _fake_postbox(package: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("fake_postbox", package / "tests/fake_postbox.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tutorials_own_tests_pass_with_the_test_kit(package: Path, db_backend: str) -> None:
    env = _environment(package, LEADBRIDGE_TEST_DB=db_backend)
    done = _run(package, env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


async def test_the_tutorials_plugin_syncs_from_the_command_line(
    package: Path, settings: Settings, container: CoreContainer, tmp_path: Path
) -> None:
    fake = _fake_postbox(package)
    env = _environment(
        package,
        LEADBRIDGE_DATABASE_URL=settings.database_url,
        LEADBRIDGE_SECRET_KEY=settings.secret_key,
        LEADBRIDGE_DATA_DIR=str(tmp_path),
        POSTBOX_KEY=fake.API_KEY,
    )
    with fake.FakePostbox() as postbox:
        postbox.upsert({"email": "ann@example.com", "first_name": "Ann"})
        postbox.upsert({"email": "bo@example.com", "last_name": "Berg"})
        postbox.upsert({"email": "cy@example.com"})

        configured = _run(
            package,
            env,
            *("-m", "leadbridge", "integrations", "configure", "postbox", "--enable"),
            *("--set", f"base_url={postbox.url}", "--secret-from-env", "api_key=POSTBOX_KEY"),
        )
        assert configured.returncode == 0, configured.stderr
        assert fake.API_KEY not in configured.stdout + configured.stderr
        ping = _run(package, env, "-m", "leadbridge", "postbox", "ping", "--json")
        assert ping.returncode == 0, ping.stderr
        assert json.loads(ping.stdout) == {"subscribers": 3}
        synced = _run(package, env, "-m", "leadbridge", "sync", "run", "postbox", "--json")
        assert synced.returncode == 0, synced.stdout + synced.stderr

    contacts = container.contact_service()
    assert await contacts.count() == 3
    assert (await contacts.get_by_email("bo@example.com")).last_name == "Berg"


def test_the_tutorial_imports_only_public_leadbridge_names(package: Path) -> None:
    sources = [*package.glob("leadbridge_postbox/*.py"), *package.glob("tests/*.py")]
    imports = re.compile(r"^\s*(?:from|import) (leadbridge[\w.]*)", re.M)
    private = {
        module
        for source in sources
        for module in imports.findall(source.read_text())
        if any(part.startswith("_") for part in module.split("."))
        and not module.startswith("leadbridge_postbox")
    }
    assert private == set()
