"""Login throttling: failed attempts counted per account and per client address in the cache.

Each key is a fixed window of LOGIN_THROTTLE_WINDOW_SECONDS that starts at its first failure.
Once a key has reached its limit, attempts are refused (HTTP 429) until the window ends, then
counting starts again: there is no permanent lock-out. Counting happens in the shared cache
(Redis in production), so every web process sees the same figures. The password step and
the second-factor step share the same counters.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PREFIX = "login-throttle"


def _now() -> float:
    # One place to read the clock, so tests can move time forward instead of sleeping.
    return time.time()


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the hop TRUSTED_PROXY_COUNT back in
    X-Forwarded-For when the app runs behind that many trusted proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR") or "unknown"


@dataclass(frozen=True)
class _Bucket:
    kind: str
    ident: str
    limit: int

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.ident.encode()).hexdigest()[:40]
        return f"{PREFIX}:{self.kind}:{digest}"


def _buckets(request: HttpRequest, account: str) -> list[_Bucket]:
    return [
        _Bucket("account", account.strip().lower(), settings.LOGIN_THROTTLE_PER_ACCOUNT),
        _Bucket("address", client_address(request), settings.LOGIN_THROTTLE_PER_ADDRESS),
    ]


def _window() -> int:
    return settings.LOGIN_THROTTLE_WINDOW_SECONDS


def _state(bucket: _Bucket, now: float) -> tuple[float | None, int]:
    """(window start, failures in the window); (None, 0) when no window is open."""
    entry = cache.get_many([f"{bucket.key}:start", f"{bucket.key}:count"])
    start = entry.get(f"{bucket.key}:start")
    if start is None or now >= start + _window():
        return None, 0
    return start, int(entry.get(f"{bucket.key}:count") or 0)


def throttle_wait_seconds(request: HttpRequest, account: str) -> int:
    """Seconds until this account and address may try again; 0 when they may try now."""
    now = _now()
    wait = 0.0
    for bucket in _buckets(request, account):
        start, failures = _state(bucket, now)
        if start is not None and failures >= bucket.limit:
            wait = max(wait, start + _window() - now)
    return math.ceil(wait)


def throttle_record_failure(request: HttpRequest, account: str) -> None:
    now = _now()
    window = _window()
    for bucket in _buckets(request, account):
        start_key, count_key = f"{bucket.key}:start", f"{bucket.key}:count"
        start, _ = _state(bucket, now)
        if start is None:
            # First failure of a new window. add() lets only one racing process open it.
            if cache.add(start_key, now, timeout=window):
                cache.set(count_key, 0, timeout=window)
            else:
                opened = cache.get(start_key)
                if opened is None or now >= opened + window:
                    cache.set(start_key, now, timeout=window)
                    cache.set(count_key, 0, timeout=window)
        try:
            cache.incr(count_key)
        except ValueError:  # the count expired between the read and the increment
            cache.set(count_key, 1, timeout=window)


def throttle_clear_account(account: str) -> None:
    """Forget an account's failures after a complete login (the address keeps its count)."""
    bucket = _Bucket("account", account.strip().lower(), 0)
    cache.delete_many([f"{bucket.key}:start", f"{bucket.key}:count"])
