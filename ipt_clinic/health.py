"""Liveness and readiness probes.

``/healthz`` answers as long as the process serves requests (no dependency is touched), so
an orchestrator restarts only a process that is truly stuck. ``/readyz`` says whether this
process can do useful work: the database answers a query and the Celery broker accepts a
connection. Both checks are bounded in time, so a dead dependency gives a quick 503 rather
than a probe that hangs.
"""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Seconds a broker check may spend connecting or waiting for an answer.
BROKER_CHECK_TIMEOUT = 2


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


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "checks": checks,
            "broker": settings.CELERY_BROKER_URL.split(":", 1)[0],
        },
        status=200 if ready else 503,
    )
