"""What gets installed is what the locks name, file by file: requirements.lock pins every
declared Python dependency with the sha256 of each of its files, requirements-production.lock
is its runtime part, package-lock.json carries an integrity hash per front-end package, and
every install (make install, the Dockerfile, CI through make) checks them. Whether the locks
are exactly what the tool writes is checked by `make check-lock` (on CI), which asks the
package index."""

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SHA256 = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _locked(name: str) -> dict[str, tuple[Requirement, frozenset[str]]]:
    """``{canonical name: (requirement, its hashes)}`` of a lock file."""
    text = (ROOT / name).read_text().replace("\\\n", " ")
    locked = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, _, rest = line.partition(" --hash")
        requirement = Requirement(spec)
        hashes = frozenset(SHA256.findall("--hash" + rest if rest else ""))
        locked[canonicalize_name(requirement.name)] = (requirement, hashes)
    return locked


def _declared(*, extras: bool) -> list[Requirement]:
    project = PYPROJECT["project"]
    names = list(project["dependencies"])
    if extras:
        names += [name for group in project["optional-dependencies"].values() for name in group]
    return [Requirement(name) for name in names]


def _pin(requirement: Requirement) -> str:
    [specifier] = requirement.specifier
    assert specifier.operator == "==", requirement
    return specifier.version


def test_every_locked_python_package_is_pinned_with_the_hashes_of_its_files():
    for name in ("requirements.lock", "requirements-production.lock"):
        locked = _locked(name)
        assert locked, name
        for requirement, hashes in locked.values():
            _pin(requirement)
            assert hashes, f"{name}: {requirement} has no hash"


def test_the_lock_covers_every_declared_dependency_and_what_it_needs():
    locked = _locked("requirements.lock")
    for requirement in _declared(extras=True):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared but not in requirements.lock"
        assert requirement.specifier.contains(_pin(locked[name][0]), prereleases=True)
        # An extra's own dependencies (celery[redis], psycopg[binary]) are locked too.
        for line in (metadata.requires(requirement.name) or []) if requirement.extras else []:
            needed = Requirement(line)
            if needed.marker is not None and any(
                needed.marker.evaluate({"extra": extra}) for extra in requirement.extras
            ):
                assert canonicalize_name(needed.name) in locked, f"{requirement} needs {needed}"
    # The build backend of the editable install comes from the lock, not an unchecked download.
    for line in PYPROJECT["build-system"]["requires"]:
        assert canonicalize_name(Requirement(line).name) in locked


def test_the_production_lock_is_the_runtime_part_of_the_lock():
    everything = _locked("requirements.lock")
    production = _locked("requirements-production.lock")
    for name, (requirement, hashes) in production.items():
        # The same pin and the same files; a marker may differ where a dev tool needs the
        # package on every platform and the runtime only on some (brotli: fonttools[woff]).
        pinned = everything[name][0]
        assert (pinned.name, pinned.specifier, everything[name][1]) == (
            requirement.name,
            requirement.specifier,
            hashes,
        )
    for requirement in _declared(extras=False):
        assert canonicalize_name(requirement.name) in production, requirement
    for tool in ("pytest", "ruff", "uv", "playwright", "locust", "setuptools"):
        assert tool not in production


def test_the_lock_records_the_moment_its_resolution_saw():
    # make check-lock resolves again as of that moment, so its answer does not change with
    # releases made since.
    header = (ROOT / "requirements.lock").read_text().split("\n", 3)[:3]
    assert any(re.search(r"--exclude-newer \d{4}-\d\d-\d\dT", line) for line in header), header


def _recipes(text: str, tool: str) -> list[str]:
    """The commands (not comments) of ``text`` that run ``tool install`` (``$(PIP) install``
    in the Makefile)."""
    return [
        line.strip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        and re.search(rf"\b{tool}\)? install\b", line, re.IGNORECASE)
    ]


def test_every_install_checks_the_hashes_of_its_lock():
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    pip_installs = _recipes(makefile, "pip") + _recipes(dockerfile, "pip") + _recipes(ci, "pip")
    assert pip_installs
    for line in pip_installs:
        project_itself = "--no-deps" in line and line.endswith("-e .")
        assert "--require-hashes" in line or project_itself, line
        assert "-c requirements" not in line, line
    assert any("-r requirements.lock" in line for line in _recipes(makefile, "pip"))
    assert any("-r requirements-production.lock" in line for line in _recipes(dockerfile, "pip"))
    # CI installs through make install.
    assert re.search(r"^make install$", ci, re.MULTILINE)
    assert re.search(r"^make check-lock$", ci, re.MULTILINE)
    # Front-end packages: npm ci installs package-lock.json as it is and checks each
    # package's integrity hash; npm install would rewrite the lock instead.
    for text in (makefile, dockerfile, ci):
        assert not _recipes(text, "npm")
    assert "npm ci" in makefile and "npm ci" in dockerfile
    _front_end_packages_carry_their_integrity_hash()


def _front_end_packages_carry_their_integrity_hash():
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["lockfileVersion"] >= 2
    packages = {path: entry for path, entry in lock["packages"].items() if path}
    assert packages
    for path, entry in packages.items():
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", entry.get("integrity", "")), path
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert packages[f"node_modules/{name}"]["version"] == version
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
