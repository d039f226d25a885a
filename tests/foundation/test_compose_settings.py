"""The compose file passes every setting the README says it passes, and only the migrate
service holds the database owner's password."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = ("web", "worker", "beat")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def _first_cells(text: str) -> list[str]:
    return [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]


def _settings_table() -> set[str]:
    """The variables of the README's Settings table (the app's; the process settings of the
    table after it are read by scripts/serve and make run, not by the app)."""
    section = _section("Settings")
    table = section[: section.index("Process settings")]
    return {
        name for cell in _first_cells(table) for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)
    }


def _said_to_pass() -> set[str]:
    """The variables the production section's table says are passed to web, worker and beat."""
    rows = [
        line
        for line in _section("Production with Docker Compose").splitlines()
        if line.startswith("| `") and "Passed to web, worker and beat" in line
    ]
    assert rows, "the README's compose table has a row of passed settings"
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def _user(url: str) -> str:
    """The user of a postgres:// URL whose password is a compose substitution."""
    return re.fullmatch(r"postgres://([a-z_]+):\$\{[A-Z_]+:\?[^}]*\}@db:5432/ipt_clinic", url)[1]


def _environment(service: str) -> dict:
    return COMPOSE["services"][service]["environment"]


def test_every_setting_the_readme_says_it_passes_reaches_web_worker_beat_and_migrate():
    documented, listed = _settings_table(), _said_to_pass()
    # The parsers found the tables (these rows are there today).
    assert {"SECRET_KEY", "DATABASE_URL", "TRUSTED_PROXY_COUNT", "LOG_LEVEL"} <= documented
    assert "GUNICORN_TIMEOUT" not in documented
    assert {"ALLOWED_HOSTS", "SITE_URL"} <= listed
    for service in (*APP_SERVICES, "migrate"):
        missing = sorted(
            (documented | listed) - {"MIGRATE_DATABASE_URL"} - set(_environment(service))
        )
        assert not missing, f"{service} is not given {missing}"


def test_only_migrate_connects_as_the_owner():
    owner = COMPOSE["services"]["db"]["environment"]["POSTGRES_USER"]
    migrate = _environment("migrate")
    assert _user(migrate["MIGRATE_DATABASE_URL"]) == owner
    assert "${POSTGRES_PASSWORD" in migrate["MIGRATE_DATABASE_URL"]
    for service in APP_SERVICES:
        environment = _environment(service)
        assert "MIGRATE_DATABASE_URL" not in environment
        assert _user(environment["DATABASE_URL"]) == "ipt_app"
        assert not any("POSTGRES_PASSWORD" in str(value) for value in environment.values())
    assert COMPOSE["services"]["migrate"]["command"] == ["scripts/serve", "migrate"]
