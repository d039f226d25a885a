import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_login_page_sends_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp


def test_scripts_carry_the_nonce_of_the_policy(client):
    response = client.get(reverse("accounts:login"))
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    # A fresh nonce on every response.
    again = client.get(reverse("accounts:login"))["Content-Security-Policy"]
    assert nonce not in again


def test_account_pages_have_no_inline_style_or_handlers(client, therapist):
    from .conftest import password_step

    password_step(client, "alice")
    for name in ("accounts:login", "accounts:mfa_enrol"):
        html = client.get(reverse(name)).content.decode()
        assert " style=" not in html
        assert not re.search(r"\son[a-z]+=", html)
        assert "<script>" not in html


def test_login_pages_are_not_cached(client):
    response = client.get(reverse("accounts:login"))
    assert "no-store" in response["Cache-Control"]
