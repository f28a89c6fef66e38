"""Release one package of the workspace: bump its version, date its changelog, commit and tag.

    python tools/release.py core minor            # 0.1.3 → 0.2.0, tag core-v0.2.0
    python tools/release.py livestorm patch --dry-run
    python tools/release.py gateway 0.1.0         # an explicit version (a first release)

Run it from a clean checkout. It refuses a dirty working tree, an empty "Unreleased" section
and a tag that exists already, naming the problem, and changes nothing then. ``--dry-run``
checks the same and prints what it would do. It never pushes: the last line says how.
"""

from __future__ import annotations

import argparse
import enum
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PACKAGES = {
    "core": ("packages/core", "leadbridge-core"),
    "livestorm": ("packages/livestorm", "leadbridge-livestorm"),
    "gateway": ("packages/gateway", "leadbridge-gateway"),
}

_VERSION_RE = re.compile(r'^__version__ = "(\d+)\.(\d+)\.(\d+)"$', re.MULTILINE)
_UNRELEASED_RE = re.compile(
    r"^## (?:unreleased|\d+\.\d+\.\d+ \(unreleased\))[ \t]*$", re.MULTILINE | re.IGNORECASE
)
_CORE_RANGE_RE = re.compile(r'"leadbridge-core\s*([^"]*)"')


class Part(enum.StrEnum):
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text.strip())
        if match is None:
            raise ReleaseError(f"{text!r} is not a version like 1.2.3 nor major, minor or patch")
        return cls(*(int(number) for number in match.groups()))

    def bumped(self, part: Part) -> Version:
        if part is Part.MAJOR:
            return Version(self.major + 1, 0, 0)
        if part is Part.MINOR:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


class ReleaseError(Exception):
    """Why the release cannot go ahead; nothing was changed."""


@dataclass(frozen=True)
class Plan:
    package: str
    distribution: str
    current: Version
    new: Version
    tag: str
    version_file: Path
    changelog: Path
    changelog_text: str
    version_text: str

    @property
    def message(self) -> str:
        return f"{self.distribution} {self.new}"


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def plan_release(root: Path, package: str, target: str, today: str) -> Plan:
    """Check everything and work out the release; change nothing."""
    if package not in PACKAGES:
        raise ReleaseError(f"unknown package {package!r}; use one of {', '.join(PACKAGES)}")
    folder, distribution = PACKAGES[package]
    dirty = _git(root, "status", "--porcelain").strip()
    if dirty:
        raise ReleaseError(
            "the working tree has uncommitted changes; commit or stash them first:\n" + dirty
        )
    project = root / folder
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    version_file = project / pyproject["tool"]["hatch"]["version"]["path"]
    version_text = version_file.read_text()
    found = _VERSION_RE.search(version_text)
    if found is None:
        raise ReleaseError(f'{version_file.relative_to(root)} has no __version__ = "X.Y.Z"')
    current = Version(*(int(number) for number in found.groups()))
    parts = {part.value: part for part in Part}
    new = current.bumped(parts[target]) if target in parts else Version.parse(target)
    tag = f"{package}-v{new}"
    if new < current or (new == current and _tag_exists(root, f"{package}-v{current}")):
        raise ReleaseError(f"{distribution} is at {current} already; {new} would go back")
    if _tag_exists(root, tag):
        raise ReleaseError(f"tag {tag} exists already: {new} was released")
    changelog = project / "CHANGELOG.md"
    changelog_text = _dated_changelog(changelog, root, new, today)
    return Plan(
        package=package,
        distribution=distribution,
        current=current,
        new=new,
        tag=tag,
        version_file=version_file,
        changelog=changelog,
        changelog_text=changelog_text,
        version_text=_VERSION_RE.sub(f'__version__ = "{new}"', version_text, count=1),
    )


def _tag_exists(root: Path, tag: str) -> bool:
    return bool(_git(root, "tag", "--list", tag).strip())


def _dated_changelog(changelog: Path, root: Path, new: Version, today: str) -> str:
    """The changelog with its "Unreleased" entries under ``## new - today``, and a new
    empty "Unreleased" section above."""
    text = changelog.read_text()
    heading = _UNRELEASED_RE.search(text)
    name = changelog.relative_to(root)
    if heading is None:
        raise ReleaseError(f'{name} has no "## Unreleased" section')
    following = re.compile(r"^## ", re.MULTILINE).search(text, heading.end())
    end = following.start() if following is not None else len(text)
    later = _UNRELEASED_RE.search(text, end)
    if later is not None:
        raise ReleaseError(
            f"{name} has a second unreleased section, {later.group(0).strip()!r}: "
            "move its entries under the first"
        )
    entries = text[heading.end() : end].strip()
    if not entries:
        raise ReleaseError(f'{name}: the "Unreleased" section is empty; nothing to release')
    released = f"## Unreleased\n\n## {new} - {today}\n\n{entries}\n"
    rest = text[end:]
    return text[: heading.start()] + released + ("\n" + rest if rest else "")


def core_range_reminders(root: Path, plan: Plan) -> list[str]:
    """Lines asking to review the plugins' ``leadbridge-core`` ranges when core's major or
    minor version moves (a plugin built for 0.2 says ``leadbridge-core>=0.2,<0.3``)."""
    if plan.package != "core" or (plan.new.major, plan.new.minor) == (
        plan.current.major,
        plan.current.minor,
    ):
        return []
    lines = [
        f"leadbridge-core moves to {plan.new.major}.{plan.new.minor}: review the "
        "leadbridge-core ranges of the packages that depend on it:"
    ]
    for other, (folder, _name) in PACKAGES.items():
        pyproject = root / folder / "pyproject.toml"
        if other == "core" or not pyproject.exists():
            continue
        for found in _CORE_RANGE_RE.finditer(pyproject.read_text()):
            spec = found.group(1).strip()
            verdict = "admits" if _admits(spec, plan.new) else "does NOT admit"
            lines.append(f"  {folder}/pyproject.toml: leadbridge-core{spec} {verdict} {plan.new}")
    return lines


def _admits(spec: str, version: Version) -> bool:
    """Whether a simple range (``>=0.1,<0.2``: comparisons joined by commas) admits
    ``version``."""
    for clause in filter(None, (part.strip() for part in spec.split(","))):
        match = re.fullmatch(r"(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)", clause)
        if match is None:
            return False
        numbers = [int(number) for number in match.group(2).split(".")]
        bound = Version(*[*numbers, 0, 0, 0][:3])
        holds = {
            ">=": version >= bound,
            "<=": version <= bound,
            "==": version == bound,
            "!=": version != bound,
            ">": version > bound,
            "<": version < bound,
        }[match.group(1)]
        if not holds:
            return False
    return True


def carry_out(root: Path, plan: Plan) -> None:
    """Write both files, commit them and tag the commit; a failed commit leaves the tree as
    it was."""
    originals = {path: path.read_text() for path in (plan.version_file, plan.changelog)}
    paths = [str(path.relative_to(root)) for path in originals]
    plan.version_file.write_text(plan.version_text)
    plan.changelog.write_text(plan.changelog_text)
    try:
        _git(root, "add", "--", *paths)
        _git(root, "commit", "--quiet", "-m", plan.message, "--", *paths)
    except ReleaseError:
        _git(root, "reset", "--quiet", "--", *paths)
        for path, text in originals.items():
            path.write_text(text)
        raise
    _git(root, "tag", "--annotate", plan.tag, "--message", plan.message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/release.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("package", choices=sorted(PACKAGES))
    parser.add_argument("version", help="major, minor, patch, or an explicit X.Y.Z")
    parser.add_argument("--dry-run", action="store_true", help="check and print; change nothing")
    arguments = parser.parse_args(argv)
    today = datetime.now(UTC).date().isoformat()
    try:
        root = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
        plan = plan_release(root, arguments.package, arguments.version, today)
    except ReleaseError as exc:
        print(f"release: error: {exc}", file=sys.stderr)
        return 1
    prefix = "would " if arguments.dry_run else ""
    print(f"{plan.distribution}: {plan.current} -> {plan.new}")
    print(f'{prefix}write {plan.version_file.relative_to(root)}: __version__ = "{plan.new}"')
    print(f"{prefix}date {plan.changelog.relative_to(root)}: ## {plan.new} - {today}")
    print(f"{prefix}commit {plan.message!r} and tag {plan.tag}")
    if not arguments.dry_run:
        try:
            carry_out(root, plan)
        except ReleaseError as exc:
            print(f"release: error: {exc}", file=sys.stderr)
            return 1
    for line in core_range_reminders(root, plan):
        print(line)
    if not arguments.dry_run:
        print(f"publish with: git push origin HEAD {plan.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
