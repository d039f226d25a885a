"""The send path on PostgreSQL, whichever database the suite itself runs on: each case runs
in a process of its own (tests/notifications/send_path_probe.py) on a PostgreSQL cluster of
the test's own.

* It prepares nothing on the server with DATABASE_SERVER_SIDE_BINDING=false (behind a pooler
  in transaction mode the next statement may run on another server connection, which never
  heard of a statement prepared on this one); with it on, its repeated statements are
  prepared as every other repeated query is. PostgreSQL's pg_prepared_statements tells.
* The claim's hand-written statement (PostgreSQL only: an UPDATE … RETURNING joined to the
  patient and the clinic, kept for its measured speed) takes the same row and returns the
  same fields as the ORM's claim, which the embedded database uses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notifications.harness import PostgresCluster

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
def database():
    cluster = PostgresCluster().start()
    try:
        url = cluster.create_database("sender")
        subprocess.run(  # noqa: S603 - this interpreter and this project's manage.py
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=_environment(url),
            check=True,
            capture_output=True,
            timeout=300,
        )
        yield url
    finally:
        cluster.stop()


def _probe(database: str, binding: str = "true") -> dict:
    result = subprocess.run(  # noqa: S603 - this interpreter and this project's module
        [sys.executable, "-m", "tests.notifications.send_path_probe"],
        cwd=ROOT,
        env=_environment(database, DATABASE_SERVER_SIDE_BINDING=binding),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_prepares_nothing_with_server_side_binding_off(database):
    assert _probe(database, "false")["prepared"] == []


def test_it_prepares_the_send_path_with_server_side_binding_on(database):
    prepared = _probe(database, "true")["prepared"]
    outbox = [statement for statement in prepared if "notifications_notification" in statement]
    # The claim and the "sent" mark, each an UPDATE of the row.
    assert len([statement for statement in outbox if "UPDATE" in statement]) >= 2, prepared


def test_the_claims_statement_returns_what_the_orm_returns(database):
    claims = _probe(database)["claims"]
    for name in ("reminder", "staff_mail"):
        by_sql, by_orm = claims[name]["sql"], claims[name]["orm"]
        assert by_sql == by_orm, name
        assert by_sql["notification"]["attempts"] == 1
        assert by_sql["notification"]["attempt_started_at"] is not None
        assert by_sql["clinic"]["id"] == by_sql["notification"]["clinic_id"]
    assert (
        claims["reminder"]["sql"]["patient"]["id"]
        == (claims["reminder"]["sql"]["notification"]["patient_id"])
    )
    assert claims["staff_mail"]["sql"]["patient"] is None
    assert claims["staff_mail"]["sql"]["notification"]["payload"] == {"kept": True}
