"""Bad-token throttle: more than PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE unknown or revoked tokens
from one client address within a clock minute get 429 until the minute is over.

Only failures are throttled: the caller looks the token up first (one indexed query by its
hash) and asks here only when it is not a live link, so a patient's valid link opens however
many wrong ones were sent from the same address (a clinic's NAT, a mobile carrier's). The
address is the real client's (``ipt_clinic.client_address``, honouring TRUSTED_PROXY_COUNT),
an IPv6 client's /64: behind the TLS proxy every request would otherwise share the proxy's.

A counter in the shared cache (Redis in production), so every web process sees the same count.
While the cache cannot be reached the throttle stands aside (a warning is logged): a patient's
link must open during a Redis outage, and a token is 256 random bits, which no guessing at
web speed finds, throttled or not.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

from ipt_clinic.client_address import client_throttle_key

WINDOW_SECONDS = 60

logger = logging.getLogger(__name__)


def _key(request, window: int) -> str:
    return f"portal:bad-token:{client_throttle_key(request)}:{window}"


def bad_token_retry_after(request) -> int | None:
    """Seconds to wait when this address is over the limit, else None."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    try:
        count = cache.get(_key(request, window), 0)
    except Exception as error:  # noqa: BLE001 - whatever the cache backend raises when down
        _cache_unreachable(error)
        return None
    if count < settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))


def bad_token_record(request) -> None:
    window = int(time.time() // WINDOW_SECONDS)
    key = _key(request, window)
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
    except Exception as error:  # noqa: BLE001 - whatever the cache backend raises when down
        _cache_unreachable(error)


def _cache_unreachable(error: Exception) -> None:
    logger.warning(
        "Portal bad-token throttle: the cache cannot be reached (%s: %s); not counting",
        type(error).__name__,
        error,
    )
