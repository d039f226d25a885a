"""Liveness and readiness probes.

``/healthz`` answers as long as the process serves requests (no dependency is touched), so
an orchestrator restarts only a process that is truly stuck. ``/readyz`` says whether this
process can do useful work: the database answers a query and the Celery broker accepts a
connection. Both checks are bounded in time, so a dead dependency gives a quick 503 rather
than a probe that hangs.

``/readyz`` answers anyone who can reach the port, so it costs little whoever asks: its answer
is reused for READY_CACHE_SECONDS (a burst of requests runs one database query and opens one
broker connection per process per interval), one client address gets READYZ_LIMIT_PER_MINUTE
answers a minute per process and 429 beyond, and the answer names no part of the set-up (the
broker's scheme, a host). Both are kept in the process's memory, not in the shared cache:
that is Redis, which the probe reports on.
"""

import threading
import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ipt_clinic.client_address import client_throttle_key

# Seconds a broker check may spend connecting or waiting for an answer.
BROKER_CHECK_TIMEOUT = 2
# Seconds one readiness answer is reused in a process.
READY_CACHE_SECONDS = 1.5
# Answers per client address (an IPv6 client's /64) per clock minute, per process. An
# orchestrator probes every few seconds: even one probing every second stays within it.
READYZ_LIMIT_PER_MINUTE = 60
# Addresses counted at once; further ones in the same minute share one count, so that a
# flood from many addresses cannot grow the process's memory.
READYZ_TRACKED_CLIENTS = 10_000


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        # A broken connection would be reused by the next request on this thread.
        connection.close_if_unusable_or_obsolete()
        return False


def _broker_ok() -> bool:
    from ipt_clinic.celery import app

    try:
        with app.connection_for_write(
            connect_timeout=BROKER_CHECK_TIMEOUT,
            transport_options={
                "socket_connect_timeout": BROKER_CHECK_TIMEOUT,
                "socket_timeout": BROKER_CHECK_TIMEOUT,
            },
        ) as conn:
            # No retry: a probe reports the state now; the orchestrator asks again.
            conn.ensure_connection(max_retries=0, timeout=BROKER_CHECK_TIMEOUT)
            # The filesystem transport "connects" without touching anything; only a
            # networked broker is asked to answer a round trip.
            if conn.transport.driver_type == "redis":
                conn.default_channel.client.ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


class _Readiness:
    """The latest checks, run again once they are READY_CACHE_SECONDS old. One request at a
    time runs them; the others of a burst wait for that answer and share it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._checks: dict[str, bool] | None = None
        self._until = 0.0

    def checks(self) -> dict[str, bool]:
        with self._lock:
            if self._checks is None or time.monotonic() >= self._until:
                self._checks = {"database": _database_ok(), "broker": _broker_ok()}
                self._until = time.monotonic() + READY_CACHE_SECONDS
            return self._checks

    def forget(self) -> None:
        """Check afresh on the next request (the tests change the dependencies)."""
        with self._lock:
            self._checks = None


class _Throttle:
    """Requests per client in the current clock minute."""

    def __init__(self):
        self._lock = threading.Lock()
        self._minute = 0
        self._counts: dict[str, int] = {}

    def retry_after(self, client: str) -> int | None:
        """Count this request; seconds to wait when the client is over the limit, else None."""
        now = time.time()
        minute = int(now // 60)
        with self._lock:
            if minute != self._minute:
                self._minute, self._counts = minute, {}
            if client not in self._counts and len(self._counts) >= READYZ_TRACKED_CLIENTS:
                client = "others"
            self._counts[client] = count = self._counts.get(client, 0) + 1
        if count <= READYZ_LIMIT_PER_MINUTE:
            return None
        return max(1, int((minute + 1) * 60 - now + 0.999))

    def forget(self) -> None:
        with self._lock:
            self._counts = {}


readiness = _Readiness()
readyz_throttle = _Throttle()


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    retry_after = readyz_throttle.retry_after(client_throttle_key(request))
    if retry_after is not None:
        response = JsonResponse({"status": "too many requests"}, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    checks = readiness.checks()
    ready = all(checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
