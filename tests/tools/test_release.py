"""tools/release.py on a copy of the workspace's release files in a temporary git repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leadbridge.testing import backend_from_env

ROOT = Path(__file__).resolve().parents[2]
DATED = r"\d{4}-\d{2}-\d{2}"

pytestmark = pytest.mark.skipif(
    backend_from_env() != "sqlite",
    reason="database-independent: runs once, in the sqlite environment",
)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The release tool and each package's pyproject, version file and changelog, committed;
    the packages' unreleased sections replaced by a known one."""
    repo = tmp_path / "workspace"
    files = ["tools/release.py"]
    for package, module in (
        ("core", "leadbridge"),
        ("livestorm", "leadbridge_livestorm"),
        ("gateway", "leadbridge_gateway"),
    ):
        files += [
            f"packages/{package}/pyproject.toml",
            f"packages/{package}/src/{module}/_version.py",
        ]
        changelog = repo / f"packages/{package}/CHANGELOG.md"
        changelog.parent.mkdir(parents=True)
        changelog.write_text(
            f"# Changelog — leadbridge-{package}\n\n## Unreleased\n\n- A new thing.\n- A fix.\n\n"
            "## 0.0.9 - 2026-01-02\n\n- Older.\n"
        )
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, repo / name)
    for package in ("core", "livestorm", "gateway"):
        version_file = next((repo / f"packages/{package}/src").glob("*/_version.py"))
        version_file.write_text('__version__ = "0.1.3"\n')
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "config", "user.name", "Release Test")
    _git(repo, "config", "user.email", "release@example.invalid")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "workspace")
    return repo


def _release(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/release.py", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _version(repo: Path, package: str) -> str:
    return next((repo / f"packages/{package}/src").glob("*/_version.py")).read_text()


def test_a_minor_core_release_bumps_dates_commits_tags_and_reminds(repo: Path) -> None:
    done = _release(repo, "core", "minor")
    assert done.returncode == 0, done.stderr
    assert _version(repo, "core") == '__version__ = "0.2.0"\n'
    changelog = (repo / "packages/core/CHANGELOG.md").read_text()
    assert re.match(
        rf"# Changelog — leadbridge-core\n\n## Unreleased\n\n## 0\.2\.0 - {DATED}\n\n"
        r"- A new thing\.\n- A fix\.\n\n## 0\.0\.9 - 2026-01-02\n\n- Older\.\n$",
        changelog,
    ), changelog
    assert _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "log", "-1", "--format=%s").strip() == "leadbridge-core 0.2.0"
    assert _git(repo, "rev-parse", "core-v0.2.0^{commit}") == _git(repo, "rev-parse", "HEAD")
    changed = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["packages/core/CHANGELOG.md", "packages/core/src/leadbridge/_version.py"]
    # the plugins' ranges (leadbridge-core>=0.1,<0.2) no longer admit core 0.2
    assert "review the leadbridge-core ranges" in done.stdout
    for folder in ("packages/livestorm", "packages/gateway"):
        assert f"{folder}/pyproject.toml: leadbridge-core>=0.1,<0.2 does NOT admit 0.2.0" in (
            done.stdout
        )
    assert "git push origin HEAD core-v0.2.0" in done.stdout
    # the other packages are untouched
    assert _version(repo, "livestorm") == '__version__ = "0.1.3"\n'


def test_a_patch_release_of_core_asks_for_no_range_review(repo: Path) -> None:
    done = _release(repo, "core", "patch")
    assert done.returncode == 0, done.stderr
    assert _version(repo, "core") == '__version__ = "0.1.4"\n'
    assert "review" not in done.stdout


def test_a_plugin_major_release(repo: Path) -> None:
    done = _release(repo, "livestorm", "major")
    assert done.returncode == 0, done.stderr
    assert _version(repo, "livestorm") == '__version__ = "1.0.0"\n'
    assert _git(repo, "tag", "--list").split() == ["livestorm-v1.0.0"]


def test_a_dry_run_prints_the_plan_and_changes_nothing(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    done = _release(repo, "gateway", "minor", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "leadbridge-gateway: 0.1.3 -> 0.2.0" in done.stdout
    assert "would commit 'leadbridge-gateway 0.2.0' and tag gateway-v0.2.0" in done.stdout
    assert re.search(
        rf"would date packages/gateway/CHANGELOG\.md: ## 0\.2\.0 - {DATED}", done.stdout
    )
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "tag", "--list") == ""


def test_a_dirty_tree_is_refused(repo: Path) -> None:
    (repo / "packages/core/pyproject.toml").write_text("# edited\n", encoding="utf-8")
    for args in (("core", "patch"), ("core", "patch", "--dry-run")):
        done = _release(repo, *args)
        assert done.returncode == 1
        assert "uncommitted changes" in done.stderr
        assert "packages/core/pyproject.toml" in done.stderr
    assert _version(repo, "core") == '__version__ = "0.1.3"\n'
    assert _git(repo, "tag", "--list") == ""


def test_an_empty_unreleased_section_is_refused(repo: Path) -> None:
    assert _release(repo, "livestorm", "patch").returncode == 0
    head = _git(repo, "rev-parse", "HEAD")
    done = _release(repo, "livestorm", "patch")
    assert done.returncode == 1
    assert 'packages/livestorm/CHANGELOG.md: the "Unreleased" section is empty' in done.stderr
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _version(repo, "livestorm") == '__version__ = "0.1.4"\n'


def test_an_existing_tag_is_refused(repo: Path) -> None:
    _git(repo, "tag", "gateway-v0.1.4")
    done = _release(repo, "gateway", "patch")
    assert done.returncode == 1
    assert "tag gateway-v0.1.4 exists already" in done.stderr
    assert _version(repo, "gateway") == '__version__ = "0.1.3"\n'
    assert _git(repo, "status", "--porcelain") == ""


def test_a_first_release_at_the_current_version(repo: Path) -> None:
    changelog = repo / "packages/gateway/CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## 0.1.3 (unreleased)\n\n- First release.\n")
    _git(repo, "commit", "--quiet", "-am", "first release notes")
    done = _release(repo, "gateway", "0.1.3")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        rf"# Changelog\n\n## Unreleased\n\n## 0\.1\.3 - {DATED}\n\n- First release\.\n",
        changelog.read_text(),
    )
    assert _git(repo, "tag", "--list").split() == ["gateway-v0.1.3"]
    again = _release(repo, "gateway", "0.1.3")
    assert again.returncode == 1
    assert "at 0.1.3 already" in again.stderr


def test_a_second_unreleased_section_is_refused(repo: Path) -> None:
    changelog = repo / "packages/livestorm/CHANGELOG.md"
    changelog.write_text("## Unreleased\n\n- New.\n\n## 0.1.3 (unreleased)\n\n- Older.\n")
    _git(repo, "commit", "--quiet", "-am", "two sections")
    done = _release(repo, "livestorm", "0.1.3")
    assert done.returncode == 1
    assert "second unreleased section, '## 0.1.3 (unreleased)'" in done.stderr
    assert _git(repo, "tag", "--list") == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("core", "1.2"), "'1.2' is not a version like 1.2.3"),
        (("core", "0.1.2"), "leadbridge-core is at 0.1.3 already; 0.1.2 would go back"),
    ],
)
def test_a_bad_target_version_is_refused(repo: Path, args: tuple[str, ...], message: str) -> None:
    done = _release(repo, *args)
    assert done.returncode == 1
    assert message in done.stderr


def test_an_unknown_package_is_refused(repo: Path) -> None:
    done = _release(repo, "hubspot", "patch")
    assert done.returncode == 2
    assert "invalid choice: 'hubspot'" in done.stderr
