"""Django's database sessions, with an outage told apart from a deleted session.

``SESSION_ENGINE`` names this module. Everything but the error handling of ``save`` is
Django's own (``django.contrib.sessions.backends.db``): loading, saving, key rotation at
login, expiry, the ``clearsessions`` command.
"""

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError


class SessionStore(DatabaseSessionStore):
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
