"""The login throttle behind one or two trusted proxies (TRUSTED_PROXY_COUNT): it counts the
real client, whom forged X-Forwarded-For entries do not hide, and clinicians who share the
proxy are not throttled for one client's failures."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from .conftest import password_step

pytestmark = pytest.mark.django_db

PROXY, OUTER_PROXY = "10.0.0.2", "10.0.0.1"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 300
    settings.LOGIN_THROTTLE_ACCOUNT_PER_HOUR = 100
    settings.MFA_REQUIRED = False
    with time_machine.travel(datetime(2027, 1, 15, 8, 0, tzinfo=UTC), tick=False):
        yield


def _behind(proxies: int, client: str, forged: str = "") -> dict:
    """What ``proxies`` trusted proxies pass on for ``client``, who sent ``forged`` as its
    own X-Forwarded-For."""
    chain = [forged] if forged else []
    chain.append(client)
    if proxies == 2:
        chain.append(OUTER_PROXY)
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ", ".join(chain)}


@pytest.mark.parametrize("proxies", [1, 2])
def test_forged_entries_do_not_hide_a_client_that_tries_many_accounts(
    settings, therapist, other_therapist, proxies
):
    settings.TRUSTED_PROXY_COUNT = proxies
    for n in range(5):
        headers = _behind(proxies, "203.0.113.9", forged=f"192.0.2.{n}")
        assert password_step(Client(**headers), f"x{n}", "wrong").status_code == 200
    headers = _behind(proxies, "203.0.113.9", forged="192.0.2.99")
    assert password_step(Client(**headers), "bob").status_code == 429
    # Bob, behind the same proxies at his own address, logs in.
    assert password_step(Client(**_behind(proxies, "198.51.100.7")), "bob").status_code == 302


@pytest.mark.parametrize("proxies", [1, 2])
def test_one_clients_failures_do_not_lock_out_a_clinician_behind_the_same_proxy(
    settings, therapist, proxies
):
    settings.TRUSTED_PROXY_COUNT = proxies
    stranger = Client(**_behind(proxies, "203.0.113.9"))
    for _ in range(3):
        password_step(stranger, "alice", "wrong")
    assert password_step(stranger, "alice").status_code == 429
    assert password_step(Client(**_behind(proxies, "198.51.100.7")), "alice").status_code == 302
