"""The bad-token throttle never stands in a live link's way, and it counts the real client:
behind the TLS proxy (TRUSTED_PROXY_COUNT) one client's guesses do not throttle the patients
who share the proxy, and forged X-Forwarded-For entries do not get a guesser a new count."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from .conftest import open_portal

pytestmark = pytest.mark.django_db

PROXY, OUTER_PROXY = "10.0.0.2", "10.0.0.1"


@pytest.fixture(autouse=True)
def _clock():
    # 20 seconds into a clock minute: each test sits inside one throttling window.
    with time_machine.travel(datetime(2027, 1, 15, 8, 0, 20, tzinfo=UTC), tick=False):
        yield


def _bad(client: Client, n: int, **extra):
    token = f"guess-{n:04d}" + "x" * 30
    return client.get(reverse("portal:exchange", kwargs={"token": token}), **extra)


def _guess_until_throttled(client: Client, **extra) -> None:
    limit = settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE
    for n in range(limit):
        assert _bad(client, n, **extra).status_code == 404
    throttled = _bad(client, limit, **extra)
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "40"


def test_a_live_link_opens_from_an_address_over_the_limit(portal_link):
    shared = Client(REMOTE_ADDR="203.0.113.7")  # a clinic's NAT, a mobile carrier's
    _guess_until_throttled(shared)
    assert open_portal(shared, portal_link[1]).status_code == 302
    assert _bad(shared, 999).status_code == 429  # wrong tokens still wait


def _behind(proxies: int, client: str, forged: str = "") -> dict:
    """The request headers ``proxies`` trusted proxies pass on for ``client``, who sent
    ``forged`` as its own X-Forwarded-For."""
    chain = [forged] if forged else []
    chain.append(client)
    if proxies == 2:
        chain.append(OUTER_PROXY)  # the inner proxy appends the outer one's address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ", ".join(chain)}


@pytest.mark.parametrize("proxies", [1, 2])
def test_it_counts_the_real_client_behind_the_proxies(settings, portal_link, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    limit = settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE
    guesser = Client()
    for n in range(limit):  # a new forged entry with every guess
        forged = _behind(proxies, "203.0.113.7", forged=f"192.0.2.{n}")
        assert _bad(guesser, n, **forged).status_code == 404
    forged = _behind(proxies, "203.0.113.7", forged="192.0.2.200")
    assert _bad(guesser, limit, **forged).status_code == 429
    # Someone else behind the same proxies mistypes their link: answered, not throttled.
    neighbour = _behind(proxies, "198.51.100.2")
    assert _bad(Client(), 0, **neighbour).status_code == 404


def test_it_counts_an_ipv6_client_by_its_slash_64(portal_link):
    guesser = Client()
    limit = settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE
    for n in range(limit):  # one subscriber's /64 holds 2**64 addresses to rotate through
        assert _bad(guesser, n, REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code == 404
    assert _bad(guesser, limit, REMOTE_ADDR="2001:db8:1:2:ffff::1").status_code == 429
    assert _bad(guesser, limit, REMOTE_ADDR="2001:db8:1:3::1").status_code == 404
