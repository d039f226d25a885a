"""The web server as production runs it (``scripts/serve web``: gunicorn, the production
settings) writes no token of a portal link or a staff invitation into its log: not in the
access log's request lines or Referers, not in Django's own request log. Each token is
replaced by the redaction marker, and the rest of the line still says what happened."""

import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.http import urlsafe_base64_encode

from ipt_clinic.accounts.models import User
from ipt_clinic.accounts.tokens import InviteTokenGenerator
from ipt_clinic.log_redaction import MARKER
from patients.portal_links import portal_link_create
from tests.foundation.helpers import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_TOKEN = "Nq4Lr8Zt1Xc6Vb3Mn9Kj2Hg5Fd0Sa7Pw_-Ey4Ru8Ti1"


def _database_url() -> str:
    """The test database, for the server to read the link made here."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Requests as a browser behind the TLS proxy sends them, keeping its cookies."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect())

    def request(self, path: str, data: dict | None = None, **headers):
        headers = {"X-Forwarded-Proto": "https", **headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, value = cookie.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, response.headers, response.read().decode()


@pytest.fixture
def served(tmp_path):
    """``scripts/serve web`` on the test database; (browser, log file, server's secret key)."""
    secret_key = secrets.token_urlsafe(64)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="tests.security.served_settings",
        SERVED_STATIC_ROOT=str(tmp_path / "static"),
        SECRET_KEY=secret_key,
        DATABASE_URL=_database_url(),
        CONN_MAX_AGE="0",
        ALLOWED_HOSTS="127.0.0.1",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            ["bash", "scripts/serve", "web"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    browser = Browser(f"http://127.0.0.1:{port}")
    try:
        assert wait_for(lambda: _answers(browser), timeout=90), log_path.read_text()
        yield browser, log_path, secret_key, server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)
            server.wait(timeout=60)


def _answers(browser: Browser) -> bool:
    try:
        return browser.request("/healthz")[0] == 200
    except OSError:
        return False


def test_it_writes_no_token_into_the_web_servers_log(served, course, therapist, clinic):
    browser, log_path, secret_key, server = served
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    token = urllib.parse.urlsplit(url).path.split("/")[2]
    invited = User.objects.create(
        username="new.colleague", email="new@clinic.example", clinic=clinic, is_active=False
    )
    invited.set_unusable_password()
    invited.save()
    invitation_tokens = InviteTokenGenerator()
    invitation_tokens.secret = secret_key  # the server's key, so that the link is valid there
    uid = urlsafe_base64_encode(str(invited.pk).encode())
    invite_token = invitation_tokens.make_token(invited)
    invite = reverse("accounts:invite_accept", kwargs={"uidb64": uid, "token": invite_token})
    link = f"/p/{token}/"

    # The patient: the link's page, its button, their portal.
    status, headers, page = browser.request(link)
    assert status == 200 and "Open my page" in page
    assert headers["Referrer-Policy"] == "no-referrer"
    [csrf] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    status, headers, _ = browser.request(
        link, {"csrfmiddlewaretoken": csrf}, Origin=browser.base.replace("http:", "https:")
    )
    assert (status, headers["Location"]) == (302, "/p/")
    assert browser.request("/p/")[0] == 200
    # A guessed link (Django logs "Not Found: <path>"), a login sent back to a portal
    # address, and the invitation with a request its page makes (a Referer holding the token).
    assert browser.request(f"/p/{UNKNOWN_TOKEN}/")[0] == 404
    browser.request(f"/accounts/login/?next=%2Fp%2F{token}%2F")
    status, headers, page = browser.request(invite)
    assert status == 200 and "Welcome" in page  # a valid invitation
    assert headers["Referrer-Policy"] == "same-origin"
    stylesheet = browser.request("/static/css/app.css", Referer=f"https://127.0.0.1{invite}")
    assert stylesheet[0] == 200

    os.killpg(server.pid, 15)  # the log is complete once gunicorn has stopped
    server.wait(timeout=60)
    log = log_path.read_text()
    for secret in [token, UNKNOWN_TOKEN, invite_token]:
        assert secret not in log
    # What each line still says.
    assert f'"GET /p/{MARKER}/ HTTP/1.1" 200' in log
    assert f'"POST /p/{MARKER}/ HTTP/1.1" 302' in log
    assert '"GET /p/ HTTP/1.1" 200' in log
    assert f'"GET /p/{MARKER}/ HTTP/1.1" 404' in log
    assert f"Not Found: /p/{MARKER}/" in log  # Django's own request log
    assert f"/accounts/login/?next=%2Fp%2F{MARKER}%2F" in log
    assert f'"GET /accounts/invite/{uid}/{MARKER}/ HTTP/1.1" 200' in log
    assert f'"https://127.0.0.1/accounts/invite/{uid}/{MARKER}/"' in log  # the Referer
