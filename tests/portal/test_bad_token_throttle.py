"""Guessing tokens: past the limit in a minute, one address gets 429 with Retry-After."""

from django.conf import settings
from django.test import Client
from django.urls import reverse

from .links import open_portal


def _bad(client, n):
    return client.get(reverse("portal:exchange", kwargs={"token": f"guess-{n:04d}" + "x" * 30}))


def test_it_throttles_an_address_after_too_many_bad_tokens(portal_link, monkeypatch):
    # 20 seconds into a clock minute, so the whole test sits inside one window.
    monkeypatch.setattr("portal.throttle.time.time", lambda: 60 * 28_000_000 + 20.0)
    limit = settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(limit):
        assert _bad(guesser, n).status_code == 404
    throttled = _bad(guesser, limit)
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "40"
    # A real token still opens: only wrong ones are throttled.
    assert open_portal(guesser, portal_link[1]).status_code == 302
    # Another address is not affected.
    assert open_portal(Client(REMOTE_ADDR="198.51.100.2"), portal_link[1]).status_code == 302


def test_it_lets_the_address_try_again_in_the_next_minute(portal_link, monkeypatch):
    now = [60 * 28_000_000 + 59.0]
    monkeypatch.setattr("portal.throttle.time.time", lambda: now[0])
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE):
        _bad(guesser, n)
    assert _bad(guesser, 99).status_code == 429
    now[0] += 2
    assert _bad(guesser, 100).status_code == 404


def test_it_does_not_count_good_tokens(portal_link):
    limit = settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(limit + 5):
        assert open_portal(client, portal_link[1]).status_code == 302
    assert _bad(client, 0).status_code == 404
