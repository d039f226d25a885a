"""The README documents every setting the app reads and every variable of the compose file,
and the compose file keeps the production shape the README describes."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()
VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")


def _documented() -> set[str]:
    """Variable names in the first cell of a README table row."""
    names = set()
    for line in README.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def _read_by_settings() -> set[str]:
    """Names passed to the environment readers (``_env``, ``_bool``, ``_positive_int``...)
    in the settings modules."""
    names = set()
    for module in (ROOT / "ipt_clinic" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if not (called.startswith("_") or called in {"get", "getenv"}):
                continue
            for arg in node.args[:2]:
                value = arg.value if isinstance(arg, ast.Constant) else None
                if isinstance(value, str) and VARIABLE.match(value):
                    names.add(value)
    return names


def test_it_finds_the_settings_it_checks():
    # Guards the parser above: these are read today, so an empty or partial parse fails here.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MFA_REQUIRED"} <= _read_by_settings()


def test_it_documents_every_setting_in_the_readme():
    missing = sorted(_read_by_settings() - _documented())
    assert not missing, f"settings missing from the README's tables: {missing}"


def test_it_documents_every_compose_variable_in_the_readme():
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE))
    assert "SECRET_KEY" in used
    missing = sorted(used - _documented())
    assert not missing, f"compose variables missing from the README: {missing}"


def test_it_runs_every_process_of_the_production_shape():
    for service in ("migrate", "web", "worker", "beat", "db", "redis", "mail"):
        assert re.search(rf"^  {service}:$", COMPOSE, re.MULTILINE), f"no {service} service"
    for role in ("web", "worker", "beat", "migrate"):
        assert f'["scripts/serve", "{role}"]' in COMPOSE


def test_it_keeps_redis_durable_and_refusing_eviction():
    assert '"--appendonly", "yes"' in COMPOSE
    assert '"--maxmemory-policy", "noeviction"' in COMPOSE
    assert "redis-data:/data" in COMPOSE
    assert "postgres-data:/var/lib/postgresql/data" in COMPOSE


def test_it_runs_the_containers_with_production_settings_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.12-slim" in dockerfile
    assert "DJANGO_SETTINGS_MODULE=ipt_clinic.settings.production" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert "collectstatic" in dockerfile
    assert "DJANGO_SETTINGS_MODULE: ipt_clinic.settings.production" in COMPOSE
