"""The app's own PostgreSQL role: it owns nothing and may only add to the audit trail.

Run by the owner of the schema (the role that migrates, ``MIGRATE_DATABASE_URL``) through
``manage.py db_roles``, after every migration. It creates the app's role if it is missing, and
grants it what the app needs: reading and writing the app's tables and using their sequences,
now and for the tables later migrations make (default privileges). The audit trail is the
exception: SELECT and INSERT only, so the app cannot UPDATE, DELETE or TRUNCATE events; not
being the table's owner nor a superuser, it can neither disable its triggers nor set
``session_replication_role`` to skip them. ``django_migrations`` is SELECT only: the app never
migrates. Running it again changes nothing that is already right.
"""

import re
from dataclasses import dataclass, field

from django.db import connections, transaction

from .models import AuditEvent

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APP_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
# Tables the app may read, and for the audit trail add to, but never change.
APPEND_ONLY = {AuditEvent._meta.db_table: "SELECT, INSERT", "django_migrations": "SELECT"}
REFUSED_ON_APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


class RoleError(Exception):
    """The app's role cannot be set up as asked; the message says what to do."""


@dataclass
class RoleReport:
    role: str
    created: bool = False
    tables: int = 0
    problems: list[str] = field(default_factory=list)


def _statement(cursor, template: str, *values: str) -> None:
    """Run a utility statement (they take no parameters) built by the server's own
    ``format()``: ``%I`` quotes an identifier, ``%L`` a literal."""
    cursor.execute("SELECT format(%s::text" + ", %s::text" * len(values) + ")", [template, *values])
    cursor.execute(cursor.fetchone()[0])


def app_role_configure(*, owner: str, role: str, password: str | None) -> RoleReport:
    """Create or update ``role`` and grant it the app's rights, connected as ``owner`` (a
    database alias whose user owns the schema's tables)."""
    connection = connections[owner]
    if connection.vendor != "postgresql":
        raise RoleError("Database roles are for PostgreSQL only.")
    if not ROLE_NAME.match(role or ""):
        raise RoleError(
            f"The app's role name {role!r} must be lower-case letters, digits and underscores."
        )
    report = RoleReport(role)
    with transaction.atomic(using=owner), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema(), current_database()")
        owner_role, schema, database = cursor.fetchone()
        if role == owner_role:
            raise RoleError(
                f"DATABASE_URL and MIGRATE_DATABASE_URL both name the role {role}: the app "
                "needs a role of its own that owns nothing."
            )
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,"
            " rolcanlogin FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found is None:
            _create(cursor, role, password)
            report.created = True
        else:
            _align(cursor, role, password, found)
        _leave_other_roles(cursor, role)
        _refuse_ownership(cursor, role, owner_role, database)
        _statement(cursor, "GRANT CONNECT ON DATABASE %I TO %I", database, role)
        _statement(cursor, "GRANT USAGE ON SCHEMA %I TO %I", schema, role)
        _statement(cursor, "REVOKE CREATE ON SCHEMA %I FROM %I", schema, role)
        _statement(cursor, "REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I", schema, role)
        _statement(
            cursor, f"GRANT {APP_TABLE_RIGHTS} ON ALL TABLES IN SCHEMA %I TO %I", schema, role
        )
        _statement(cursor, "REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I", schema, role)
        _statement(cursor, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I", schema, role)
        _statement(
            cursor,
            f"ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT {APP_TABLE_RIGHTS} "
            "ON TABLES TO %I",
            owner_role,
            schema,
            role,
        )
        _statement(
            cursor,
            "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE ON SEQUENCES TO %I",
            owner_role,
            schema,
            role,
        )
        for table, rights in APPEND_ONLY.items():
            _statement(cursor, "REVOKE ALL ON TABLE %I.%I FROM %I", schema, table, role)
            _statement(cursor, f"GRANT {rights} ON TABLE %I.%I TO %I", schema, table, role)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')"
            " AND has_table_privilege(%s, c.oid, 'INSERT')",
            [schema, role],
        )
        report.tables = cursor.fetchone()[0]
        report.problems = app_role_problems(cursor, role=role, schema=schema)
        if report.problems:
            raise RoleError("; ".join(report.problems))
    return report


def _create(cursor, role: str, password: str | None) -> None:
    # CREATE ROLE's defaults are what the app needs: no superuser, no CREATEDB, CREATEROLE,
    # REPLICATION or BYPASSRLS.
    if password:
        _statement(cursor, "CREATE ROLE %I LOGIN PASSWORD %L", role, password)
    else:
        _statement(cursor, "CREATE ROLE %I LOGIN", role)


def _align(cursor, role: str, password: str | None, found: tuple) -> None:
    superuser, createdb, createrole, replication, bypassrls, login = found
    # Only what differs is named: changing REPLICATION or BYPASSRLS at all, even to what it
    # already is, needs a superuser, and the owner need not be one.
    wrong = [
        option
        for option, present in (
            ("NOSUPERUSER", superuser),
            ("NOCREATEDB", createdb),
            ("NOCREATEROLE", createrole),
            ("NOREPLICATION", replication),
            ("NOBYPASSRLS", bypassrls),
            ("LOGIN", not login),
        )
        if present
    ]
    if wrong:
        _statement(cursor, f"ALTER ROLE %I WITH {' '.join(wrong)}", role)
    if password:
        _statement(cursor, "ALTER ROLE %I PASSWORD %L", role, password)


def _leave_other_roles(cursor, role: str) -> None:
    """A member of another role has that role's rights too (the owner's, say)."""
    cursor.execute(
        "SELECT granted.rolname FROM pg_auth_members m"
        " JOIN pg_roles granted ON granted.oid = m.roleid"
        " JOIN pg_roles member ON member.oid = m.member WHERE member.rolname = %s",
        [role],
    )
    for (granted,) in cursor.fetchall():
        _statement(cursor, "REVOKE %I FROM %I", granted, role)


def _refuse_ownership(cursor, role: str, owner_role: str, database: str) -> None:
    cursor.execute(
        "WITH app AS (SELECT oid FROM pg_roles WHERE rolname = %s)"
        " SELECT (SELECT count(*) FROM pg_class, app WHERE relowner = app.oid)"
        " + (SELECT count(*) FROM pg_proc, app WHERE proowner = app.oid)"
        " + (SELECT count(*) FROM pg_namespace, app WHERE nspowner = app.oid)",
        [role],
    )
    owned = cursor.fetchone()[0]
    if owned:
        raise RoleError(
            f"The role {role} owns {owned} objects (tables, functions, schemas) in {database}: the "
            f"app's role must own nothing. As a superuser: REASSIGN OWNED BY {role} TO "
            f"{owner_role}; then run db_roles again."
        )


def app_role_problems(cursor, *, role: str, schema: str) -> list[str]:
    """What ``role`` may still do that the app's role must not, read from PostgreSQL's own
    privilege functions; empty when it is as it should be."""
    problems = []
    cursor.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
        " WHERE rolname = %s",
        [role],
    )
    superuser, bypassrls, createrole, createdb = cursor.fetchone()
    for name, present in (
        ("is a superuser", superuser),
        ("bypasses row security", bypassrls),
        ("may create roles", createrole),
        ("may create databases", createdb),
    ):
        if present:
            problems.append(f"{role} {name}")
    cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
    if cursor.fetchone()[0]:
        problems.append(
            f"{role} may create objects in schema {schema} (granted to PUBLIC: as the "
            f"schema's owner, REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC)"
        )
    for table in APPEND_ONLY:
        for right in REFUSED_ON_APPEND_ONLY:
            cursor.execute(
                "SELECT has_table_privilege(%s, format('%%I.%%I', %s::text, %s::text), %s)",
                [role, schema, table, right],
            )
            if cursor.fetchone()[0]:
                problems.append(f"{role} has {right} on {table}")
    return problems
