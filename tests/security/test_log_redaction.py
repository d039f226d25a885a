"""The tokens of portal and invitation links never reach Django's logs or its error mails
(ipt_clinic/log_redaction.py). The web server's own access log is tested by running it:
tests/security/test_served_logs.py."""

import logging
import sys

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ipt_clinic.log_redaction import MARKER, PORTAL_PAGES, redact
from portal import urls as portal_urls

TOKEN = "Zx8QpT3vLr0Wq7NcYb5Ke2Hu9Sd4Fa1Gm6Jo_-Xi3Ut"  # the shape of a real one (43 chars)
INVITE_TOKEN = "d5t2kq-4f1a9c0e7b3d2a8f6e5c4b3a2f1e0d9c"


def test_it_redacts_the_token_of_a_portal_link_and_of_an_invitation():
    portal = reverse("portal:exchange", kwargs={"token": TOKEN})
    invite = reverse("accounts:invite_accept", kwargs={"uidb64": "MTI", "token": INVITE_TOKEN})
    line = f'1.2.3.4 "GET {portal} HTTP/1.1" 200 "https://clinic.example{invite}"'
    assert redact(line) == (
        f'1.2.3.4 "GET /p/{MARKER}/ HTTP/1.1" 200 "https://clinic.example'
        f'/accounts/invite/MTI/{MARKER}/"'
    )
    # Also percent-encoded in a query string (a login's ?next=).
    assert redact(f"/accounts/login/?next=%2Fp%2F{TOKEN}%2F") == (
        f"/accounts/login/?next=%2Fp%2F{MARKER}%2F"
    )


def test_it_redacts_every_token_in_the_urlconf():
    # Any URL with a token in its address (a new kind of link included) is covered.
    with_tokens = []
    for pattern, prefix in _all_patterns(get_resolver()):
        if "token" not in pattern.pattern.converters:
            continue
        kwargs = {name: "MTI" for name in pattern.pattern.converters} | {"token": TOKEN}
        name = f"{prefix}{pattern.name}"
        with_tokens.append(name)
        path = reverse(name, kwargs=kwargs)
        assert TOKEN not in redact(path) and MARKER in redact(path), name
    assert {"portal:exchange", "accounts:invite_accept"} <= set(with_tokens)
    # Django's password reset moves its link to this address once the token is in the session.
    assert redact("/accounts/password/reset/MTI/set-password/").endswith("/set-password/")


def _all_patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_patterns(
                entry, f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            )
        elif entry.name:
            yield entry, prefix


def test_it_leaves_the_portals_own_pages_readable():
    # Every portal page but the link itself starts with a word the redaction knows.
    for pattern in portal_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        first = str(pattern.pattern).split("/", 1)[0]
        if pattern.name == "exchange":
            assert first == "<str:token>"
        else:
            assert first in PORTAL_PAGES | {""}, pattern.name
    for path in ["/p/", "/p/homework/12/", "/p/questionnaires/phq9/", "/p/staff/patients/3/link/"]:
        assert redact(f"GET {path} HTTP/1.1") == f"GET {path} HTTP/1.1"


@pytest.mark.django_db
def test_it_keeps_tokens_out_of_djangos_request_logs(caplog):
    caplog.set_level(logging.INFO)
    client = Client(enforce_csrf_checks=True)
    # A 404 ("Not Found: <path>") and a CSRF refusal ("Forbidden (...): <path>").
    assert client.get(reverse("portal:exchange", kwargs={"token": TOKEN})).status_code == 404
    assert client.post(reverse("portal:exchange", kwargs={"token": TOKEN})).status_code == 403
    logged = [
        (record.name, record.getMessage())
        for record in caplog.records
        if record.name.startswith("django")
    ]
    assert ("django.request", f"Not Found: /p/{MARKER}/") in logged
    assert any(name == "django.security.csrf" and f"/p/{MARKER}/" in m for name, m in logged)
    assert all(TOKEN not in message for _, message in logged)


def _failing_exchange(token: str):
    raise RuntimeError("the database went away")


@pytest.mark.django_db
def test_it_keeps_tokens_out_of_the_error_mail(settings):
    settings.ADMINS = ["ops@clinic.example"]
    path = reverse("portal:exchange", kwargs={"token": TOKEN})
    invite = reverse("accounts:invite_accept", kwargs={"uidb64": "MTI", "token": INVITE_TOKEN})
    request = RequestFactory().get(path, HTTP_REFERER=f"https://clinic.example{invite}")
    try:
        _failing_exchange(TOKEN)
    except RuntimeError:
        exc_info = sys.exc_info()
    # What Django's handler logs for a view's exception (django.utils.log.log_response).
    logging.getLogger("django.request").error(
        "Internal Server Error: %s",
        path,
        exc_info=exc_info,
        extra={"status_code": 500, "request": request},
    )
    [message] = mail.outbox
    assert message.subject.endswith(f"Internal Server Error: /p/{MARKER}/")
    assert "the database went away" in message.body  # the report is there
    assert "_failing_exchange" in message.body
    for text in [message.subject, message.body]:
        assert TOKEN not in text
        assert INVITE_TOKEN not in text
    assert f"/p/{MARKER}/" in message.body


def test_it_redacts_the_celery_workers_log_too():
    """A worker replaces the settings' log handlers with its own when it starts
    (after_setup_logger); ipt_clinic.celery puts the filter back on them: the console SMS
    backend, which logs each message, would otherwise print a portal link."""
    import io

    from celery.signals import after_setup_logger

    import ipt_clinic.celery  # noqa: F401 - connects the signal
    from notifications.sms import ConsoleSmsBackend

    stream = io.StringIO()
    logger = logging.getLogger("notifications.sms")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        after_setup_logger.send(sender=None, logger=logger, loglevel=logging.INFO)
        ConsoleSmsBackend().send(
            "+447700900123", f"Your link: https://clinic.example/p/{TOKEN}/", message_id="m1"
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert TOKEN not in stream.getvalue()
    assert f"/p/{MARKER}/" in stream.getvalue()
