"""Django's database sessions, with the per-request load as one fixed statement and an
outage told apart from a deleted session.

``SESSION_ENGINE`` names this module. Everything else is Django's own
(``django.contrib.sessions.backends.db``): saving, key rotation at login, expiry, the
``clearsessions`` command.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from ipt_clinic import rows


def _load_statement() -> tuple[str, list[rows.Columns]]:
    from django.contrib.sessions.models import Session

    quote = connection.ops.quote_name
    session = rows.Columns(Session, "s", names=["session_data"])
    sql = (
        f"SELECT {session.sql} FROM {quote(Session._meta.db_table)} s"  # noqa: S608 - names from the model  # nosec B608
        f" WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s"
    )
    return sql, [session]


def read_session_data(session_key: str) -> str | None:
    """The stored data of the session ``session_key`` whose expiry is still ahead (what
    Django's store asks the ORM: ``session_key=key, expire_date__gt=now``), else None."""
    from django.contrib.sessions.models import Session

    sql, parts = rows.statement("session-load", _load_statement)
    # The moment as the ORM prepares it for this column (SQLite keeps datetimes as text).
    now = Session._meta.get_field("expire_date").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [session_key, now])
        row = cursor.fetchone()
    return None if row is None else rows.instances(row, parts)[0].session_data


class SessionStore(DatabaseSessionStore):
    def load(self):
        """The session's data, read by one fixed statement (``ipt_clinic.rows``) instead of
        the ORM's lookup compiled on each request: every staff request loads its session,
        and the bench's session-page and note-form targets need that compile saved. A key
        with no live row (unknown, expired, malformed) goes to Django's own ``load``, which
        answers the same empty session and drops the key, as it always did."""
        if self.session_key is not None:
            data = read_session_data(self.session_key)
            if data is not None:
                return self.decode(data)
        return super().load()

    def save(self, must_create=False):
        """Django's save, except when the database cannot be reached: Django turns every
        database error of an update into ``UpdateError``, which the session middleware
        answers with 400 ("the session was deleted before the request completed"). A
        database restarting under a request is an outage, not a bad request: the error goes
        on to the 500 handler, which answers 503 for it (``ipt_clinic.db``)."""
        try:
            return super().save(must_create=must_create)
        except UpdateError as error:
            if isinstance(error.__context__, OperationalError | InterfaceError):
                raise error.__context__ from None
            raise
