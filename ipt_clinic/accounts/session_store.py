"""Django's database sessions, with the per-request load as one fixed statement.

``SESSION_ENGINE`` names this module. Everything but the load is Django's own
(``django.contrib.sessions.backends.db``): saving, key rotation at login, expiry, the
``clearsessions`` command. Every staff request loads its session, so the lookup is written
once as SQL (see ``ipt_clinic.rows``) instead of compiled by the ORM each time; it asks
exactly what Django's does: the row with this key whose expiry is still ahead.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from ipt_clinic import rows


def _load_statement():
    from django.contrib.sessions.models import Session

    return rows.select_where(Session, ("session_key", "="), ("expire_date", ">"))


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        sql, parts = rows.statement("session-load", _load_statement)
        found = rows.fetch_one(sql, [self.session_key, timezone.now()], parts)
        if found is None:
            self._session_key = None  # as Django's store: an unknown or expired key is dropped
            return None
        return found[0]

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
