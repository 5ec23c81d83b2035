"""The lock files agree with pyproject.toml, with each other, and with what is installed.

`.ci/lock` makes them; these checks only read files and installed metadata.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


class Lock:
    """A lock file's pins: name -> (version, marker or None), and whether each has hashes."""

    def __init__(self, path: Path) -> None:
        self.pins: dict[str, tuple[str, Marker | None]] = {}
        self.unhashed: list[str] = []
        name = None
        for line in path.read_text(encoding="utf-8").splitlines():
            found = PIN.match(line)
            if found:
                name = canonicalize_name(found["name"])
                marker = Marker(found["marker"]) if found["marker"] else None
                self.pins[name] = (found["version"], marker)
                self.unhashed.append(name)
            elif line.strip().startswith("--hash=sha256:") and name in self.unhashed:
                self.unhashed.remove(name)

    def applies(self, name: str) -> bool:
        marker = self.pins[name][1]
        return marker is None or marker.evaluate()


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def runtime_lock() -> Lock:
    return Lock(ROOT / "requirements.lock")


@pytest.fixture(scope="module")
def test_lock() -> Lock:
    return Lock(ROOT / "requirements-test.lock")


def test_every_pin_has_its_hashes(runtime_lock: Lock, test_lock: Lock) -> None:
    assert runtime_lock.pins and test_lock.pins
    assert runtime_lock.unhashed == [] and test_lock.unhashed == []


def test_each_dependency_is_locked_within_its_range(
    project: dict, runtime_lock: Lock, test_lock: Lock
) -> None:
    wanted = [
        (runtime_lock, project["dependencies"]),
        (test_lock, project["dependencies"] + project["optional-dependencies"]["test"]),
    ]
    for lock, requirements in wanted:
        for text in requirements:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in lock.pins, f"{requirement.name} is not locked: run .ci/lock"
            version = lock.pins[name][0]
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{requirement.name} is locked at {version}, outside {requirement.specifier}: "
                "run .ci/lock"
            )


def test_the_two_locks_agree(runtime_lock: Lock, test_lock: Lock) -> None:
    assert {
        name: pin[0]
        for name, pin in runtime_lock.pins.items()
        if test_lock.pins.get(name, ("",))[0] != pin[0]
    } == {}


def test_what_is_installed_is_what_is_locked(test_lock: Lock) -> None:
    """The environment running the tests has the locked versions (a virtualenv made before
    the lock was refreshed does not: install the lock again)."""
    differ = {}
    for name, (version, _marker) in test_lock.pins.items():
        if not test_lock.applies(name):
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ[name] = (version, installed)
    assert differ == {}, (
        "locked and installed versions differ: pip install -r requirements-test.lock"
    )
