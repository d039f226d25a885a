"""Fixed SQL statements over the models' own columns, and their rows turned back into model
instances the way the ORM does it (the backend's and the fields' database converters, then
``Model.from_db``).

Hand-made SQL is the exception: a caller uses this module only where ``make bench`` showed
a target missed through the ORM, says so beside the call, and has a test comparing its
result with the ORM's on SQLite and PostgreSQL (tests/foundation/test_rows.py covers the
conversion here). The per-request lookups of a staff request (the session, the user with
their clinic, the second-factor device) use it because the session page and the note form
reached the edge of their targets with the ORM compiling them before every view; the
portal link stays with the ORM. Queries go
through Django's cursor: its error translation, its query log and, on PostgreSQL, its
statement preparing (only with DATABASE_SERVER_SIDE_BINDING on) apply.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.utils import timezone


class Columns:
    """One model's concrete columns in a statement (table alias ``alias``), and how to turn
    their values back into an instance; with ``names`` (field or attribute names: ``course``
    or ``course_id``), only those fields' columns (the primary key's always), the others
    deferred on the instance as ``QuerySet.only()`` leaves them."""

    def __init__(self, model, alias: str, names=None):
        quote = connection.ops.quote_name
        self.model = model
        self.fields = [
            field
            for field in model._meta.concrete_fields
            if names is None or field.primary_key or field.name in names or field.attname in names
        ]
        self.attnames = [field.attname for field in self.fields]
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        self.sql = ", ".join(f"{alias}.{quote(field.column)}" for field in self.fields)
        # As the ORM's compiler: the backend's converters (SQLite hands back text for
        # datetimes and 0/1 for booleans), then the field's, each given the column.
        columns = [field.get_col(alias) for field in self.fields]
        self.converters = [
            (index, converter, column)
            for index, column in enumerate(columns)
            for converter in (
                connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            )
        ]

    def instance(self, values: list):
        """The instance these values describe, or None when its primary key is NULL (an
        outer join that found nothing)."""
        if values[self.pk_index] is None:
            return None
        for index, converter, column in self.converters:
            values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def instances(row: Sequence, parts: Sequence[Columns]) -> list:
    """Split one result row, whose columns are ``parts``' columns in order, into instances."""
    found, start = [], 0
    for part in parts:
        width = len(part.attnames)
        found.append(part.instance(list(row[start : start + width])))
        start += width
    return found


def insert(model, values: dict) -> None:
    """Insert one row of ``model``: ``values`` by attribute name (``clinic_id``), every other
    column its field's default (``auto_now_add`` and ``auto_now``: now), each value prepared
    by its field as the ORM prepares it for saving."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    now = None
    prepared = []
    for field in fields:
        if field.attname in values:
            value = values[field.attname]
        elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            now = now or timezone.now()
            value = now
        else:
            value = field.get_default()
        prepared.append(field.get_db_prep_save(value, connection))
    sql, _ = statement(f"insert:{model._meta.label_lower}", lambda: (_insert_sql(fields), []))
    with connection.cursor() as cursor:
        cursor.execute(sql, prepared)


def _insert_sql(fields) -> str:
    quote = connection.ops.quote_name
    table = quote(fields[0].model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names from the model, values as parameters  # nosec B608


_statements: dict[tuple, tuple[str, list[Columns]]] = {}


def statement(key: str, build) -> tuple[str, list[Columns]]:
    """``build()`` (returning the SQL and its column parts) once per process and database
    vendor, remembered under ``key``."""
    cache_key = (key, connection.vendor)
    found = _statements.get(cache_key)
    if found is None:
        found = _statements[cache_key] = build()
    return found


def prepares_statements() -> bool:
    """Whether this connection may prepare statements on the server: PostgreSQL with
    DATABASE_SERVER_SIDE_BINDING on (the settings turn it off behind a pooler in transaction
    mode, where a statement prepared on one server connection is unknown on the next). Code
    that prepares by hand (psycopg's ``prepare=True``) asks this first."""
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("server_side_binding") is True
    )


def quote(name: str) -> str:
    """A table's or column's name quoted for this database."""
    return connection.ops.quote_name(name)


def table(model) -> str:
    """``model``'s table, quoted."""
    return quote(model._meta.db_table)


def fetch(key: str, build, params: list) -> tuple[list, list[Columns]]:
    """Every row of the statement ``key`` (``build`` makes it once, see ``statement``) for
    ``params``, with its parts."""
    sql, parts = statement(key, build)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall(), parts


def column_holds(model, pk) -> bool:
    """Whether ``model``'s primary-key column can hold ``pk``: an id it cannot hold finds
    nothing, as the ORM's lookup finds nothing for it."""
    low, high = connection.ops.integer_field_range(model._meta.pk.get_internal_type())
    return (low is None or low <= pk) and (high is None or pk <= high)
