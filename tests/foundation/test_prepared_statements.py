"""DATABASE_SERVER_SIDE_BINDING=false leaves nothing prepared on the server: behind a pooler
in transaction mode the next statement may run on another server connection, where a
prepared statement does not exist. With it on (the default), the statements the pages repeat
are prepared. Each setting is tried in a process of its own (tests/foundation/prepared_probe.py)
on a PostgreSQL cluster of the test's own, whichever database the suite itself runs on: a
staff member's and a portal patient's pages, opened more often than the threshold, then
PostgreSQL's pg_prepared_statements for that connection."""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notifications.harness import PostgresCluster, pg_bin

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _environment(database: str, **extra: str) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="ipt_clinic.settings.test", DATABASE_URL=database, **extra
    )
    return environment


@pytest.fixture(scope="module")
def cluster():
    """A cluster with a migrated database to copy for each probe (``template``)."""
    cluster = PostgresCluster().start()
    try:
        subprocess.run(  # noqa: S603 - this interpreter and this project's manage.py
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=_environment(cluster.create_database("template")),
            check=True,
            capture_output=True,
            timeout=300,
        )
        yield cluster
    finally:
        cluster.stop()


_copies = itertools.count(1)


@pytest.fixture
def database(cluster) -> str:
    """A fresh copy of the migrated database: each probe writes its own cast."""
    name = f"probe_{next(_copies)}"
    subprocess.run(  # noqa: S603 - PostgreSQL's own createdb, on the test's own cluster
        [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
         "-T", "template", name],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cluster.url(name)


def _prepared(database: str, **extra: str) -> list[str]:
    """The statements prepared on the probe's connection after its pages."""
    result = subprocess.run(  # noqa: S603 - this interpreter and this project's module
        [sys.executable, "-m", "tests.foundation.prepared_probe"],
        cwd=ROOT,
        env=_environment(database, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])["prepared"]


def test_it_prepares_nothing_with_server_side_binding_off(database):
    assert _prepared(database, DATABASE_SERVER_SIDE_BINDING="false") == []


def test_it_prepares_nothing_even_when_the_url_names_a_threshold(database):
    # A threshold in the URL's own options does not turn preparing back on for psycopg's
    # own cursors while the setting says a pooler sits in between.
    asking = f"{database}?prepare_threshold=1"
    assert _prepared(asking, DATABASE_SERVER_SIDE_BINDING="false") == []


def test_it_prepares_the_repeated_statements_with_server_side_binding_on(database):
    prepared = _prepared(database, DATABASE_SERVER_SIDE_BINDING="true")
    # The lookups of every request and the audit event every record page writes.
    assert any('"django_session"' in statement for statement in prepared), prepared
    assert any('"accounts_user"' in statement for statement in prepared), prepared
    assert any(statement.startswith('INSERT INTO "audit_auditevent"') for statement in prepared)
    assert any("by_hand" in statement for statement in prepared), prepared
