"""One answer to "where did this request come from" (``ipt_clinic.client_address``), honouring
TRUSTED_PROXY_COUNT: entries a client forges in X-Forwarded-For are never taken for its
address, and the audit trail records the real client, not the proxy."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from ipt_clinic.audit.models import AuditAction, AuditEvent
from ipt_clinic.client_address import client_address, client_throttle_key
from tests.conftest import login
from tests.portal.conftest import open_portal

PROXY, OUTER_PROXY, CLIENT = "10.0.0.2", "10.0.0.1", "203.0.113.9"


def _request(remote: str = PROXY, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy: the socket's address, whatever the request claims.
        (0, None, PROXY),
        (0, "6.6.6.6", PROXY),
        # One proxy: the last entry, which it wrote; anything before it is the client's own.
        (1, CLIENT, CLIENT),
        (1, f"6.6.6.6, {CLIENT}", CLIENT),
        (1, f"6.6.6.6,7.7.7.7 , {CLIENT}", CLIENT),
        # Two proxies: the entry the outer one wrote, second from the right.
        (2, f"{CLIENT}, {OUTER_PROXY}", CLIENT),
        (2, f"6.6.6.6, 7.7.7.7, {CLIENT}, {OUTER_PROXY}", CLIENT),
        # Fewer entries than proxies: the request did not come through them all.
        (2, CLIENT, PROXY),
        (1, None, PROXY),
        # An entry no proxy would write: not an address.
        (1, "6.6.6.6, <script>", PROXY),
        (2, f"{CLIENT}, 6.6.6.6, , {OUTER_PROXY}", PROXY),
        # IPv6, and IPv4 written as IPv6.
        (1, "2001:db8::7", "2001:db8::7"),
        (1, f"::ffff:{CLIENT}", CLIENT),
    ],
)
def test_it_takes_the_client_the_trusted_proxies_name(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(_request(forwarded=forwarded)) == expected


def test_it_has_no_address_when_the_socket_gives_none(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(_request(remote="")) is None
    assert client_throttle_key(_request(remote="")) == "unknown"


def test_throttles_count_an_ipv6_client_by_its_slash_64(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    one = client_throttle_key(_request(remote="2001:db8:1:2::7"))
    assert (
        one == client_throttle_key(_request(remote="2001:db8:1:2:abcd::1")) == "2001:db8:1:2::/64"
    )
    assert client_throttle_key(_request(remote="2001:db8:1:3::7")) != one
    assert client_throttle_key(_request(remote=CLIENT)) == CLIENT


def _behind(proxies: int, forged: str = "6.6.6.6") -> dict:
    chain = [forged, CLIENT] + ([OUTER_PROXY] if proxies == 2 else [])
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ", ".join(chain)}


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", [1, 2])
def test_the_audit_trail_records_the_real_client(settings, patient, therapist, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    staff = login(Client(**_behind(proxies)), therapist)
    assert staff.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW, patient_id=patient.pk)
    assert event.ip_address == CLIENT


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", [1, 2])
def test_the_audit_trail_records_the_real_patient_and_the_real_login(
    settings, course, therapist, proxies
):
    from patients.portal_links import portal_link_create

    settings.TRUSTED_PROXY_COUNT = proxies
    settings.MFA_REQUIRED = False
    cache.clear()  # the throttles' counters, from other tests
    _link, url = portal_link_create(patient=course.patient, by=therapist)
    assert open_portal(Client(**_behind(proxies)), url).status_code == 302
    opened = AuditEvent.objects.filter(action=AuditAction.PORTAL_ACCESS).latest("id")
    assert opened.ip_address == CLIENT
    staff = Client(**_behind(proxies))
    staff.post(
        reverse("accounts:login"),
        {"login": "alice", "password": "correct horse battery staple"},
    )
    assert AuditEvent.objects.get(action=AuditAction.LOGIN).ip_address == CLIENT
