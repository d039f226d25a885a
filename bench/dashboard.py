"""Server time of the clinic dashboard, in-process, for one clinic or the demo pair.

``time_dashboard(clinic, requests=50)`` logs in as an admin of ``clinic`` (second factor
verified, as the test cast does), requests the dashboard a few times untimed, then
``requests`` times timed, and returns p50/p95 in milliseconds and the SQL query count of one
request. ``run(requests=50)`` does it for the seeded demo's large clinic (about 5,000 patients
at ``--scale 100``) and its small one (about 50) and adds the p95 ratio; ``bench/run.py``
calls it. Needs Django set up (``bench/run.py`` does that).
"""

from __future__ import annotations

import statistics
import time

LARGE_CLINIC = "demo-northgate"
SMALL_CLINIC = "demo-lakeside"
BENCH_ADMIN = "bench.dashboard.{slug}"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _admin_of(clinic):
    """An active clinic admin of ``clinic``; one made for the bench if it has none."""
    from ipt_clinic.accounts.models import Role, User

    admin = (
        User.objects.filter(clinic=clinic, role=Role.CLINIC_ADMIN, is_active=True)
        .order_by("pk")
        .first()
    )
    if admin is None:
        admin, _ = User.objects.get_or_create(
            username=BENCH_ADMIN.format(slug=clinic.slug),
            defaults={
                "email": f"bench.dashboard@{clinic.slug}.invalid",
                "clinic": clinic,
                "role": Role.CLINIC_ADMIN,
            },
        )
    return admin


def _client_for(user):
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ipt_clinic.accounts.middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = timezone.now().isoformat()
    session[SESSION_LOGIN_AT] = now
    session[SESSION_LAST_SEEN] = now
    session.save()
    return client


def time_dashboard(clinic, requests: int = 50, warmup: int = 3) -> dict:
    """p50/p95 server time (ms) of ``requests`` dashboard requests for ``clinic`` and the
    query count of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from patients.models import Patient

    url = reverse("caseload:dashboard")
    client = _client_for(_admin_of(clinic))

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"the dashboard answered {response.status_code}")
        return response

    for _ in range(warmup):
        get()
    with CaptureQueriesContext(connection) as captured:
        get()
    # read now: the next request's request_started signal clears the connection's query log
    queries = len(captured.captured_queries)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        get()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "clinic": clinic.slug,
        "patients": Patient.objects.filter(clinic=clinic).count(),
        "requests": requests,
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(_percentile(samples, 0.95), 1),
        "queries": queries,
    }


def run(requests: int = 50) -> dict:
    """The dashboard of the demo's large and small clinics, and the ratio of their p95."""
    from ipt_clinic.accounts.models import Clinic

    figures: dict = {}
    for label, slug in (("large", LARGE_CLINIC), ("small", SMALL_CLINIC)):
        clinic = Clinic.objects.filter(slug=slug).first()
        if clinic is None:
            figures[label] = {"clinic": slug, "not_available": "clinic not seeded"}
            continue
        try:
            figures[label] = time_dashboard(clinic, requests=requests)
        except RuntimeError as error:
            figures[label] = {"clinic": slug, "not_available": str(error)}
    if "p95_ms" in figures.get("large", {}) and "p95_ms" in figures.get("small", {}):
        figures["p95_ratio"] = round(figures["large"]["p95_ms"] / figures["small"]["p95_ms"], 2)
    return figures
