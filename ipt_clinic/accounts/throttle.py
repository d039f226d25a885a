"""Login throttling: failed attempts counted in the cache, in three kinds of window.

* **account and address**: LOGIN_THROTTLE_PER_ACCOUNT failures for one account from one client
  address within LOGIN_THROTTLE_WINDOW_SECONDS. This is the lock-out a wrong password meets,
  and it holds only there: a stranger guessing a clinician's password from their own address
  does not lock the clinician out at theirs.
* **address**: LOGIN_THROTTLE_PER_ADDRESS failures from one client address, for any accounts,
  within the same window (one address trying many accounts).
* **account**: LOGIN_THROTTLE_ACCOUNT_PER_HOUR failures for one account from all addresses
  together within an hour: the ceiling on guessing one password from many addresses. Once it
  is reached the account is refused everywhere except at the addresses it completed a login
  from within the last KNOWN_ADDRESS_DAYS (read from the audit trail's logins), so that even
  then a stranger does not lock the clinician out where they work.

Each window starts at its first failure; once its limit is reached, attempts are refused (HTTP
429) until the window ends, then counting starts again: there is no permanent lock-out.

"The account" of the password step is the name typed (``account_for_login``), whatever it
names: a username, an email address, nobody. A username and an email address of one person
are counted apart, so the throttle answers the same for each and never tells whether they
belong together or to anyone. The second-factor steps count the signed-in user
(``account_for_user``). Client addresses are the real client's (``ipt_clinic.client_address``,
TRUSTED_PROXY_COUNT honoured), an IPv6 client's /64.

Counting happens in the shared cache (Redis in production), so every web process sees the same
figures. While the cache cannot be reached (Redis stopped or not answering), the windows are
kept in the database instead (``ThrottleWindow``) and a warning is logged: staff can still log
in, and the limits still hold. The two stores do not share their counts, so a window that
spans the cache going away or coming back starts again in the other store.
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

from ipt_clinic.audit.models import AuditAction, AuditEvent
from ipt_clinic.client_address import client_address, client_throttle_key

from .models import ThrottleWindow

PREFIX = "login-throttle"
ACCOUNT_WINDOW_SECONDS = 3600
# A login completed from an address within this many days makes it one of the account's own.
KNOWN_ADDRESS_DAYS = 30

logger = logging.getLogger(__name__)


def _now() -> float:
    # One place to read the clock (tests move it with time-machine).
    return time.time()


def account_for_login(identifier: str) -> str:
    """The account the password step counts: the name as typed, trimmed, in any case."""
    return f"login:{identifier.strip().lower()}"


def account_for_user(user) -> str:
    """The account the second-factor steps count: the signed-in user."""
    return f"user:{user.pk}"


@dataclass(frozen=True)
class _Bucket:
    kind: str
    ident: str
    limit: int
    window: int

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.ident.encode()).hexdigest()[:40]
        return f"{PREFIX}:{self.kind}:{digest}"


def _pair(account: str, address: str) -> _Bucket:
    return _Bucket(
        "account-address",
        f"{account}\n{address}",
        settings.LOGIN_THROTTLE_PER_ACCOUNT,
        settings.LOGIN_THROTTLE_WINDOW_SECONDS,
    )


def _buckets(request: HttpRequest, account: str) -> list[_Bucket]:
    address = client_throttle_key(request)
    return [
        _pair(account, address),
        _Bucket(
            "address",
            address,
            settings.LOGIN_THROTTLE_PER_ADDRESS,
            settings.LOGIN_THROTTLE_WINDOW_SECONDS,
        ),
        _Bucket(
            "account", account, settings.LOGIN_THROTTLE_ACCOUNT_PER_HOUR, ACCOUNT_WINDOW_SECONDS
        ),
    ]


class _CacheWindows:
    """The windows in the shared cache: ``<key>:start`` and ``<key>:count``, both expiring
    with the window."""

    def state(self, key: str, now: float, window: int) -> tuple[float | None, int]:
        entry = cache.get_many([f"{key}:start", f"{key}:count"])
        start = entry.get(f"{key}:start")
        if start is None or now >= start + window:
            return None, 0
        return start, int(entry.get(f"{key}:count") or 0)

    def record(self, key: str, now: float, window: int) -> None:
        start_key, count_key = f"{key}:start", f"{key}:count"
        start, _ = self.state(key, now, window)
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

    def state(self, key: str, now: float, window: int) -> tuple[float | None, int]:
        row = ThrottleWindow.objects.filter(key=key).values_list("started_at", "failures")
        found = row.first()
        if found is None or now >= found[0].timestamp() + window:
            return None, 0
        return found[0].timestamp(), found[1]

    def record(self, key: str, now: float, window: int) -> None:
        started = _moment(now)
        with transaction.atomic():
            row, created = ThrottleWindow.objects.select_for_update().get_or_create(
                key=key, defaults={"started_at": started, "failures": 1}
            )
            if created:
                return
            if now >= row.started_at.timestamp() + window:
                row.started_at, row.failures = started, 0
            row.failures += 1
            row.save(update_fields=["started_at", "failures"])
        # Windows long over are of no use to anyone.
        longest = max(settings.LOGIN_THROTTLE_WINDOW_SECONDS, ACCOUNT_WINDOW_SECONDS)
        ThrottleWindow.objects.filter(started_at__lt=started - timedelta(seconds=longest)).delete()

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


def _is_known_address(request: HttpRequest, user) -> bool:
    """Did ``user`` complete a login from this request's address within KNOWN_ADDRESS_DAYS?
    Read only once the account-wide ceiling is reached. A name nobody has (``user`` None)
    asks too, and finds nothing: the refusal takes as long whatever the name."""
    address = client_address(request)
    if address is None:
        return False
    since = _moment(_now()) - timedelta(days=KNOWN_ADDRESS_DAYS)
    return AuditEvent.objects.filter(
        clinic_id=getattr(user, "clinic_id", None),
        action=AuditAction.LOGIN,
        actor_id=getattr(user, "pk", None),
        ip_address=address,
        at__gte=since,
    ).exists()


def throttle_wait_seconds(request: HttpRequest, account: str, *, user=None) -> int:
    """Seconds until ``account`` may be tried again from this request's address; 0 when it
    may be tried now. ``user``: the staff member the account names, if any, whose own
    addresses the account-wide ceiling spares."""
    now = _now()
    buckets = _buckets(request, account)
    states = _with_fallback(lambda windows: [windows.state(b.key, now, b.window) for b in buckets])
    longest = 0.0
    for bucket, (start, failures) in zip(buckets, states, strict=True):
        if start is None or failures < bucket.limit:
            continue
        if bucket.kind == "account" and _is_known_address(request, user):
            continue
        longest = max(longest, start + bucket.window - now)
    return math.ceil(longest)


def throttle_record_failure(request: HttpRequest, account: str) -> None:
    """Count one failed attempt for ``account`` from this request's address."""
    now = _now()
    buckets = _buckets(request, account)

    def record(windows) -> None:
        for bucket in buckets:
            windows.record(bucket.key, now, bucket.window)

    _with_fallback(record)


def throttle_clear_account(account: str, request: HttpRequest) -> None:
    """Forget ``account``'s failures from this request's address (after a complete login).
    The address's own count and the account-wide count stay: a stranger's failures from
    elsewhere are not wiped by the clinician logging in."""
    key = _pair(account, client_throttle_key(request)).key
    _with_fallback(lambda windows: windows.clear(key))


def throttle_clear_login(request: HttpRequest, user) -> None:
    """After a complete login: forget this address's failures for every name of ``user``
    (username, email address) and for its second-factor steps."""
    accounts = {account_for_user(user), account_for_login(user.get_username())}
    if user.email:
        accounts.add(account_for_login(user.email))
    keys = [_pair(account, client_throttle_key(request)).key for account in sorted(accounts)]

    def clear(windows) -> None:
        for key in keys:
            windows.clear(key)

    _with_fallback(clear)
