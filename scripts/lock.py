"""Write requirements.lock: the installed version of every distribution that pyproject.toml's
dependencies (every extra included) need, directly or not. Run it with the project's venv
after adding or upgrading a dependency:

    .venv/bin/python scripts/lock.py          # rewrite requirements.lock
    .venv/bin/python scripts/lock.py --check  # exit 1 if an installed pin is missing or differs

`pip install -c requirements.lock -e '.[dev]'` then gives every machine the same versions.
Packages installed by hand but not declared in pyproject.toml stay out of the lock. Writing
needs every extra installed; the check looks only at what is installed (CI installs `dev`),
so it fails when a declared dependency is missing from the lock or pinned differently.
"""

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        names += extra
    return [Requirement(name) for name in names]


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras | {""})


def pins(*, only_installed: bool = False) -> dict[str, str]:
    """``{canonical name: "Name==version"}`` for the declared dependencies, transitively."""
    found: dict[str, str] = {}
    wanted = [(req, set(req.extras)) for req in declared()]
    seen: set[tuple[str, frozenset]] = set()
    while wanted:
        requirement, extras = wanted.pop()
        key = (canonicalize_name(requirement.name), frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            if only_installed:
                continue
            sys.exit(f"{requirement.name} is declared but not installed: pip install it first")
        found[key[0]] = f"{distribution.metadata['Name']}=={distribution.version}"
        for line in distribution.requires or []:
            child = Requirement(line)
            if _applies(child, extras):
                wanted.append((child, set(child.extras)))
    return found


def check() -> int:
    locked = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version.strip()
    wrong = [
        f"{pin} (lock: {locked.get(name, 'missing')})"
        for name, pin in sorted(pins(only_installed=True).items())
        if locked.get(name) != pin.partition("==")[2]
    ]
    if wrong:
        print("requirements.lock does not pin what is installed:\n  " + "\n  ".join(wrong))
        print("Install with the lock, or after a deliberate change run: make lock")
        return 1
    return 0


def main() -> int:
    if "--check" in sys.argv:
        return check()
    found = pins()
    LOCK.write_text("".join(f"{found[name]}\n" for name in sorted(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
