"""requirements.lock is what every install uses; it must satisfy pyproject.toml and be installed."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def locked_versions() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"not an exact pin: {line!r}"
        pins[canonicalize_name(name.split(";")[0])] = Version(version.split(";")[0].strip())
    return pins


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    return [Requirement(line) for line in declared]


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    pins = locked_versions()
    problems = []
    for requirement in declared_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not in requirements.lock: run scripts/lock")
        elif pinned not in requirement.specifier:
            problems.append(f"{requirement.name}=={pinned} is outside {requirement.specifier}")
    assert not problems, problems


def test_the_environment_runs_the_locked_versions() -> None:
    """The tests pass on exactly what a fresh machine installs from the lock."""
    drift = []
    for name, pinned in locked_versions().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # a platform-specific pin (its marker excludes this interpreter)
        if installed != pinned:
            drift.append(f"{name}: installed {installed}, locked {pinned}")
    assert not drift, drift
