"""Two database roles: ``scripts/serve migrate`` migrates as the owner and runs ``db_roles``,
which sets up the app's own role; connected as that role, the audit trail can be read and
added to and nothing else, and the rest of the app's tables work as before.

The suite itself runs as the test database's superuser (the owner here); the app's role is a
role of this test's own, dropped at the end."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.audit.roles import RoleError, app_role_configure
from ipt_clinic.audit.services import audit_record

ROOT = Path(__file__).resolve().parents[2]


def _url(user: str, password: str = "") -> str:
    settings = connection.settings_dict
    credentials = f"{user}:{password}" if password else user
    port = settings["PORT"] or 5432
    return f"postgres://{credentials}@{settings['HOST']}:{port}/{settings['NAME']}"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*args],
        cwd=ROOT,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def _refused(app: psycopg.Connection, statement: str) -> str:
    """The error PostgreSQL answers ``statement`` with, run as the app's role."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refusal:
        app.execute(statement)
    return str(refusal.value)


@pytest.fixture
def app_role():
    role = f"ipt_test_app_{os.getpid()}"
    yield role, secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_app_role_may_only_read_and_add_to_the_audit_trail(request):
    if connection.vendor != "postgresql":
        # Roles are PostgreSQL's: on SQLite the owner's step refuses plainly.
        with pytest.raises(RoleError, match="PostgreSQL only"):
            app_role_configure(owner="default", role="ipt_app", password=None)
        return
    role, password = request.getfixturevalue("app_role")
    audit_record(action="view", clinic_id=None, summary="before the roles")
    owner_url, app_url = _url(connection.settings_dict["USER"]), _url(role, password)

    # The migrate service's command, twice: the second run finds everything in place.
    for verb in ("Created", "Updated"):
        done = _run(
            "scripts/serve", "migrate", DATABASE_URL=app_url, MIGRATE_DATABASE_URL=owner_url
        )
        assert done.returncode == 0, done.stderr
        assert "No migrations to apply." in done.stdout
        assert f"{verb} the app's role {role}: it owns nothing" in done.stdout

    with psycopg.connect(app_url, autocommit=True) as app:
        assert app.execute("SELECT current_user").fetchone() == (role,)
        # What the app does: add to the trail (through the chain's trigger) and read it...
        app.execute(
            "INSERT INTO audit_auditevent (at, actor_kind, action, object_type, summary,"
            " changes, user_agent, hash) VALUES (now(), 'system', 'view', '', 'as the app',"
            " '{}', '', '')"
        )
        assert app.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (2,)
        # ...and change the app's other tables.
        app.execute("UPDATE accounts_clinic SET name = name")
        app.execute("DELETE FROM django_session WHERE expire_date < now()")

        # What it may not: change or empty the trail, or step around its triggers.
        for statement in (
            "UPDATE audit_auditevent SET summary = 'rewritten'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
        ):
            assert "permission denied for table audit_auditevent" in _refused(app, statement)
        for statement in (
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_event_chain ON audit_auditevent",
        ):
            refusal = _refused(app, statement)
            assert refusal.startswith("must be owner of "), refusal
            assert refusal.endswith(" audit_auditevent"), refusal
        assert 'permission denied to set parameter "session_replication_role"' in _refused(
            app, "SET session_replication_role = replica"
        )
        assert "permission denied for schema public" in _refused(app, "CREATE TABLE mine (id int)")
        assert "permission denied for table django_migrations" in _refused(
            app, "DELETE FROM django_migrations"
        )

        # A table a later migration makes (as the owner) is the app's to use at once.
        probe = f"roles_probe_{os.getpid()}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {probe} (id bigint GENERATED BY DEFAULT AS IDENTITY)")
        try:
            app.execute(f"INSERT INTO {probe} DEFAULT VALUES")  # noqa: S608 - the test's name
            assert app.execute(f"SELECT count(*) FROM {probe}").fetchone() == (1,)  # noqa: S608
            assert "permission denied" in _refused(app, f"TRUNCATE {probe}")
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {probe}")

    # The app's role checks the chain: both events, its own included, are in it.
    verified = _run(sys.executable, "manage.py", "audit_verify", DATABASE_URL=app_url)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Audit trail intact: 2 events;")
    assert AuditEvent.objects.filter(summary="as the app").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_migrate_as_the_app_role_when_an_owner_is_set(request):
    if connection.vendor != "postgresql":
        done = _run(sys.executable, "manage.py", "db_roles")
        assert done.returncode == 1
        assert "Set MIGRATE_DATABASE_URL to the owner's URL" in done.stderr
        return
    role, password = request.getfixturevalue("app_role")
    report = app_role_configure(owner="default", role=role, password=password)
    assert (report.created, report.problems) == (True, [])
    owner_url = _url(connection.settings_dict["USER"])
    done = _run(
        sys.executable,
        "manage.py",
        "migrate",
        DATABASE_URL=_url(role, password),
        MIGRATE_DATABASE_URL=owner_url,
    )
    assert done.returncode == 1
    assert "migrations run as the owner of the schema" in done.stderr
    same = _run(
        sys.executable,
        "manage.py",
        "db_roles",
        DATABASE_URL=owner_url,
        MIGRATE_DATABASE_URL=owner_url,
    )
    assert same.returncode == 1
    assert "name the same role: the app needs its own" in same.stderr
