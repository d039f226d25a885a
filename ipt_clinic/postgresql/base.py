"""Django's PostgreSQL backend with a time limit on everything the app waits for.

Two kinds of limit, both from the settings (``DATABASES["default"]["OPTIONS"]``):

- PostgreSQL's own, set on every connection: ``statement_timeout``, ``lock_timeout`` and
  ``idle_in_transaction_session_timeout`` (OPTIONS ``statement_timeout``, ``lock_timeout``,
  ``idle_in_transaction_timeout``, in seconds; 0 leaves the server's setting alone). The
  server stops a slow statement, a long lock wait or an abandoned transaction itself.
- The client's (OPTIONS ``client_timeout``, seconds; 0 for none): how long a statement, a
  fetch, a commit or a rollback may wait for the server's answer, and the health check at the
  start of a request at most ``HEALTH_CHECK_SECONDS``. A server that is frozen (stopped with
  SIGSTOP, a stalled VM or disk) enforces nothing: the kernel still accepts connections and
  acknowledges what is sent, so no libpq setting ever fires either. Measured on this project's
  machine (PostgreSQL 15, psycopg 3.3), with the postmaster and the backend stopped,
  ``SELECT 1`` was still waiting after 12 s with ``tcp_user_timeout=2000`` and keepalives
  every second, and with ``-c statement_timeout=1000``. psycopg has no public per-call
  timeout for a blocking connection, so a watchdog thread shuts the connection's socket
  down when a call outlives its deadline: the call returns at once with psycopg's
  OperationalError ("server closed the connection unexpectedly"), Django drops the
  connection, and the request gets the 503 page (``ipt_clinic.db.server_error``).

Opening a connection is bounded by ``connect_timeout`` (DATABASE_CONNECT_TIMEOUT), which
psycopg applies to the whole attempt, start-up exchange included: against the same frozen
server a new connection with ``connect_timeout=2`` gave up after 2.0 s.
"""

import logging
import math
import os
import socket
import threading
import time
from contextlib import nullcontext

from django.db.backends.postgresql import base as postgresql
from django.db.backends.utils import CursorWrapper
from psycopg import ServerCursor

logger = logging.getLogger(__name__)

# The health check is a ``SELECT 1``: a server that takes longer than this to answer it is
# not going to serve the request in good time, and the connection is opened afresh.
HEALTH_CHECK_SECONDS = 1.0

# OPTIONS keys this backend reads and does not pass on to libpq: PostgreSQL's own limits
# (seconds, each set as the server setting named here, in milliseconds) and the client's.
SERVER_LIMITS = {
    "statement_timeout": "statement_timeout",
    "lock_timeout": "lock_timeout",
    "idle_in_transaction_timeout": "idle_in_transaction_session_timeout",
}
CLIENT_TIMEOUT = "client_timeout"


class Watchdog:
    """Deadlines of calls waiting for the server, one thread per process watching them.

    A call registers its connection's socket and deadline for its duration (``bounded``);
    the thread shuts down the socket of a call still registered at its deadline. The thread
    sleeps until the earliest deadline and is woken only when a call brings an earlier one,
    so a busy web process costs it about one wake-up per deadline's length."""

    def __init__(self):
        self.start_afresh()

    def start_afresh(self) -> None:
        """Forget every call and the thread: for a forked child (a gunicorn or Celery pool
        process), which has none of its parent's threads and may have its lock held."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: dict[object, tuple[float, int, float]] = {}
        self._next_wake = math.inf
        self._thread: threading.Thread | None = None

    def bounded(self, fileno: int, seconds: float) -> "_Deadline":
        """A context in which socket ``fileno`` is shut down if the block runs longer than
        ``seconds``. Enter it in the thread that owns the connection, which keeps the socket
        open throughout."""
        return _Deadline(self, fileno, seconds)

    def _add(self, call: "_Deadline") -> None:
        with self._lock:
            self._calls[call] = (call.deadline, call.fileno, call.seconds)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="database-watchdog", daemon=True
                )
                self._thread.start()
            if call.deadline < self._next_wake:
                self._changed.notify()

    def _remove(self, call: "_Deadline") -> None:
        with self._lock:
            self._calls.pop(call, None)

    def _watch(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for call, (deadline, fileno, seconds) in list(self._calls.items()):
                    if deadline <= now:
                        del self._calls[call]
                        _shut_down(fileno, seconds)
                self._next_wake = min(
                    (entry[0] for entry in self._calls.values()), default=math.inf
                )
                self._changed.wait(None if self._next_wake == math.inf else self._next_wake - now)


class _Deadline:
    """One call under the watchdog (a class, not a generator: it wraps every statement)."""

    __slots__ = ("watchdog", "fileno", "seconds", "deadline")

    def __init__(self, watchdog: Watchdog, fileno: int, seconds: float):
        self.watchdog, self.fileno, self.seconds = watchdog, fileno, seconds

    def __enter__(self) -> None:
        self.deadline = time.monotonic() + self.seconds
        self.watchdog._add(self)

    def __exit__(self, *exc_info) -> None:
        self.watchdog._remove(self)


def _shut_down(fileno: int, seconds: float) -> None:
    logger.warning(
        "PostgreSQL gave no answer within %s s: closing the connection (socket %s)",
        seconds,
        fileno,
    )
    # A duplicate of the descriptor: shutdown() acts on the socket both share, and closing
    # the duplicate leaves the connection's own descriptor to psycopg.
    try:
        with socket.socket(fileno=os.dup(fileno)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError as error:  # already closed by the server or the peer
        logger.warning("Could not shut the connection down: %s", error)


watchdog = Watchdog()
os.register_at_fork(after_in_child=watchdog.start_afresh)
_UNBOUNDED = nullcontext()


class DatabaseWrapper(postgresql.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        server = [
            f"-c {setting}={round(seconds * 1000)}"
            for key, setting in SERVER_LIMITS.items()
            if (seconds := params.pop(key, 0))
        ]
        # The server's limits first: a ``-c`` of the same name in the URL's own options
        # comes later and wins.
        if server:
            params["options"] = " ".join([*server, params.get("options", "")]).strip()
        params.pop(CLIENT_TIMEOUT, None)
        return params

    @property
    def client_timeout(self) -> float:
        return float(self.settings_dict["OPTIONS"].get(CLIENT_TIMEOUT) or 0)

    def waiting_for_server(self, seconds: float | None = None):
        """A context bounding the block's waits for the server to ``seconds`` (the client
        timeout by default); without a connection or a limit, nothing is bounded."""
        limit = self.client_timeout if seconds is None else seconds
        if self.connection is None or self.connection.closed or not limit:
            return _UNBOUNDED
        return watchdog.bounded(self.connection.fileno(), limit)

    def init_connection_state(self):
        with self.waiting_for_server():
            super().init_connection_state()

    def is_usable(self):
        with self.waiting_for_server(min(HEALTH_CHECK_SECONDS, self.client_timeout)):
            return super().is_usable()

    def commit(self):
        with self.waiting_for_server():
            super().commit()

    def rollback(self):
        with self.waiting_for_server():
            super().rollback()

    def make_cursor(self, cursor):
        return BoundedCursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return BoundedCursorDebugWrapper(cursor, self)


class _Bounded:
    """A cursor's statements within the client timeout, and a server-side cursor's fetches
    and close (a client-side cursor holds its rows already: nothing to wait for)."""

    def execute(self, sql, params=None):
        with self.db.waiting_for_server():
            return super().execute(sql, params)

    def executemany(self, sql, param_list):
        with self.db.waiting_for_server():
            return super().executemany(sql, param_list)

    def _from_server(self, name: str, *args, **kwargs):
        call = super().__getattr__(name)  # Django's error translation around psycopg's
        if not isinstance(self.cursor, ServerCursor):
            return call(*args, **kwargs)
        with self.db.waiting_for_server():
            return call(*args, **kwargs)

    def fetchone(self):
        return self._from_server("fetchone")

    def fetchmany(self, *args, **kwargs):
        return self._from_server("fetchmany", *args, **kwargs)

    def fetchall(self):
        return self._from_server("fetchall")

    def close(self):
        return self._from_server("close")


class BoundedCursorWrapper(_Bounded, CursorWrapper):
    pass


class BoundedCursorDebugWrapper(_Bounded, postgresql.CursorDebugWrapper):
    pass
