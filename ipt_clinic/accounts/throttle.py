"""Login throttling: failed attempts counted per account and per client address in the cache.

Each key is a fixed window of LOGIN_THROTTLE_WINDOW_SECONDS that starts at its first failure.
Once a key has reached its limit, attempts are refused (HTTP 429) until the window ends, then
counting starts again: there is no permanent lock-out. Counting happens in the shared cache
(Redis in production), so every web process sees the same figures. The password step and
the second-factor step share the same counters.

While the cache cannot be reached (Redis stopped or not answering), the windows are kept in
the database instead (``ThrottleWindow``) and a warning is logged: staff can still log in,
and the limits still hold. The two stores do not share their counts, so a window that spans
the cache going away or coming back starts again in the other store.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from .models import ThrottleWindow

PREFIX = "login-throttle"

logger = logging.getLogger(__name__)


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


class _CacheWindows:
    """The windows in the shared cache: ``<key>:start`` and ``<key>:count``, both expiring
    with the window."""

    def state(self, key: str, now: float) -> tuple[float | None, int]:
        entry = cache.get_many([f"{key}:start", f"{key}:count"])
        start = entry.get(f"{key}:start")
        if start is None or now >= start + _window():
            return None, 0
        return start, int(entry.get(f"{key}:count") or 0)

    def record(self, key: str, now: float) -> None:
        window = _window()
        start_key, count_key = f"{key}:start", f"{key}:count"
        start, _ = self.state(key, now)
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

    def clear(self, key: str) -> None:
        cache.delete_many([f"{key}:start", f"{key}:count"])


def _moment(now: float) -> datetime:
    return datetime.fromtimestamp(now, tz=UTC)


class _DatabaseWindows:
    """The same windows as rows, for while the cache cannot be reached."""

    def state(self, key: str, now: float) -> tuple[float | None, int]:
        row = ThrottleWindow.objects.filter(key=key).values_list("started_at", "failures")
        found = row.first()
        if found is None or now >= found[0].timestamp() + _window():
            return None, 0
        return found[0].timestamp(), found[1]

    def record(self, key: str, now: float) -> None:
        started = _moment(now)
        with transaction.atomic():
            row, created = ThrottleWindow.objects.select_for_update().get_or_create(
                key=key, defaults={"started_at": started, "failures": 1}
            )
            if created:
                return
            if now >= row.started_at.timestamp() + _window():
                row.started_at, row.failures = started, 0
            row.failures += 1
            row.save(update_fields=["started_at", "failures"])
        # Windows long over are of no use to anyone.
        ended = started - timedelta(seconds=_window())
        ThrottleWindow.objects.filter(started_at__lt=ended).delete()

    def clear(self, key: str) -> None:
        ThrottleWindow.objects.filter(key=key).delete()


_CACHE = _CacheWindows()
_DATABASE = _DatabaseWindows()


def _with_fallback(operation):
    """``operation(windows)`` on the cache's windows, or on the database's when the cache
    cannot be reached."""
    try:
        return operation(_CACHE)
    except Exception as error:  # noqa: BLE001 - whatever the cache backend raises when down
        logger.warning(
            "Login throttle: the cache cannot be reached (%s: %s); counting in the database",
            type(error).__name__,
            error,
        )
        return operation(_DATABASE)


def throttle_wait_seconds(request: HttpRequest, account: str) -> int:
    """Seconds until this account and address may try again; 0 when they may try now."""
    now = _now()
    buckets = _buckets(request, account)

    def wait(windows) -> float:
        longest = 0.0
        for bucket in buckets:
            start, failures = windows.state(bucket.key, now)
            if start is not None and failures >= bucket.limit:
                longest = max(longest, start + _window() - now)
        return longest

    return math.ceil(_with_fallback(wait))


def throttle_record_failure(request: HttpRequest, account: str) -> None:
    now = _now()
    keys = [bucket.key for bucket in _buckets(request, account)]

    def record(windows) -> None:
        for key in keys:
            windows.record(key, now)

    _with_fallback(record)


def throttle_clear_account(account: str) -> None:
    """Forget an account's failures after a complete login (the address keeps its count)."""
    key = _Bucket("account", account.strip().lower(), 0).key
    _with_fallback(lambda windows: windows.clear(key))
