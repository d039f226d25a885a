"""The browser-side defences on real pages: a CSP whose nonce is the one the scripts carry,
no framing, no MIME sniffing, the referrer policies, and HSTS under the production settings.

A new session key at login and the idle/absolute session limits are tested where the login
lives: tests/accounts/test_login.py and tests/accounts/test_session_limits.py.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.portal.links import open_portal

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _policy_nonce(response) -> str:
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self' 'nonce-" in csp
    return re.search(r"'nonce-([^']+)'", csp).group(1)


def _assert_nonce_on_every_script(response) -> None:
    nonce = _policy_nonce(response)
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert scripts, "the page loads no script, so the nonce check proves nothing"
    assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


def _assert_no_framing_no_sniffing(response) -> None:
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_it_puts_the_policy_nonce_on_the_scripts_of_a_staff_page(therapist_client, patient):
    response = therapist_client.get(reverse("patients:detail", kwargs={"patient_id": patient.pk}))
    assert response.status_code == 200
    _assert_nonce_on_every_script(response)
    _assert_no_framing_no_sniffing(response)
    assert response["Referrer-Policy"] == "same-origin"


def test_it_gives_each_response_its_own_nonce(therapist_client):
    first = _policy_nonce(therapist_client.get(reverse("patients:list")))
    second = _policy_nonce(therapist_client.get(reverse("patients:list")))
    assert first != second


def test_it_sends_no_referrer_and_the_nonce_on_a_portal_page(client, course, therapist):
    from patients.portal_links import portal_link_create

    _link, url = portal_link_create(patient=course.patient, by=therapist)
    assert open_portal(client, url).status_code == 302
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    _assert_nonce_on_every_script(response)
    _assert_no_framing_no_sniffing(response)
    assert response["Referrer-Policy"] == "no-referrer"


def _production_answer() -> dict:
    """Ask a fresh interpreter running the production settings for a page over HTTPS."""
    code = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/healthz", secure=True, HTTP_HOST="localhost")
plain = Client().get("/accounts/login/", HTTP_HOST="localhost")
print(json.dumps({
    "status": response.status_code,
    "hsts": response.get("Strict-Transport-Security"),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
}))
"""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="ipt_clinic.settings.production",
        SECRET_KEY="production-like-key-" + "k7Qz3vX9pL2mN8rT5wY1" * 3,
        ALLOWED_HOSTS="localhost",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_sends_hsts_and_redirects_to_https_under_the_production_settings():
    answer = _production_answer()
    assert answer["status"] == 200
    assert answer["hsts"] == "max-age=31536000; includeSubDomains; preload"
    # Plain HTTP gets no page, only a redirect to HTTPS.
    assert answer["plain_status"] == 301
    assert answer["plain_location"] == "https://localhost/accounts/login/"
    assert answer["session_cookie_secure"] is True
    assert answer["csrf_cookie_secure"] is True


def test_it_sends_no_hsts_over_plain_http_in_development(client):
    # HSTS over HTTP is meaningless and would be ignored; the test settings serve HTTP.
    assert "Strict-Transport-Security" not in client.get(reverse("accounts:login"))
