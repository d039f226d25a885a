"""Staff session limits and the second factor."""

import functools
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.contrib.auth import logout
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware, is_verified
from django_otp.models import Device

from ipt_clinic import rows

SESSION_LOGIN_AT = "staff_login_at"
SESSION_LAST_SEEN = "staff_last_seen"
# Set on the request before logout() to say why the session ended (the audit trail shows it).
LOGOUT_REASON_ATTR = "staff_logout_reason"


# Posted fields that are never typed text and never shown back.
_NOT_TYPED_TEXT = {"csrfmiddlewaretoken", "version", "next"}


def keeps_typed_text(view):
    """Mark a view whose form carries text someone typed (a session note). When the staff
    session has ended before its POST arrives, the answer is a page that shows that text and
    leads back through the login to the same page, instead of a redirect that drops it."""
    view.keeps_typed_text = True
    return view


def _read_time(session, key: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(session[key])
    except (KeyError, TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _expiry_reason(login_at: datetime | None, last_seen: datetime | None, now) -> str | None:
    if login_at is None:
        return "Session ended: no login time recorded"
    if now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT:
        return "Session ended: absolute time limit reached"
    if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
        return "Session ended: idle time limit reached"
    return None


class SessionTimeoutMiddleware:
    """Log staff out after SESSION_IDLE_TIMEOUT without a request or SESSION_ABSOLUTE_TIMEOUT
    after login, whichever comes first. Logout flushes the server-side session.

    The last-seen time is written to the session only when the recorded one is at least
    SESSION_LAST_SEEN_INTERVAL old (60 seconds by default, see the settings): a request
    within that interval of the last write saves nothing, where writing every time cost each
    staff request an UPDATE and a COMMIT of its session row. The recorded time therefore lags
    the latest request by less than the interval, and the idle logout comes between
    SESSION_IDLE_TIMEOUT minus the interval and SESSION_IDLE_TIMEOUT after the last request:
    never later than the limit, at most one interval early. The absolute limit is unchanged
    (the login time is never rewritten).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now()
            session = request.session
            last_seen = _read_time(session, SESSION_LAST_SEEN)
            reason = _expiry_reason(_read_time(session, SESSION_LOGIN_AT), last_seen, now)
            if reason:
                setattr(request, LOGOUT_REASON_ATTR, reason)
                logout(request)
                login_url = reverse(settings.LOGIN_URL)
                if request.headers.get("HX-Request"):
                    # A fragment request: send the whole page to the login, and back to the
                    # page it came from afterwards (its script keeps what was typed).
                    response = HttpResponse(status=204)
                    query = {"expired": 1, "next": _page_path(request)}
                    response["HX-Redirect"] = f"{login_url}?{urlencode(query)}"
                    return response
                if request.method == "POST" and _keeps_typed_text(request):
                    return _session_ended_page(request, login_url)
                return redirect(f"{login_url}?{urlencode({'expired': 1, 'next': request.path})}")
            if last_seen is None or now - last_seen >= settings.SESSION_LAST_SEEN_INTERVAL:
                session[SESSION_LAST_SEEN] = now.isoformat()
        return self.get_response(request)


def _page_path(request) -> str:
    """The path of the page a fragment request came from (htmx's HX-Current-URL), if it is
    on this site; the login checks the address again before going there."""
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    if page.netloc in ("", request.get_host()) and page.path.startswith("/"):
        return page.path + (f"?{page.query}" if page.query else "")
    return reverse(settings.LOGIN_REDIRECT_URL)


def _keeps_typed_text(request) -> bool:
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return False
    return getattr(view, "keeps_typed_text", False)


def _session_ended_page(request, login_url: str) -> HttpResponse:
    """Nothing was saved; the text that was sent is shown back to the browser that typed it,
    with the way back to its page through the login."""
    typed = [
        (name.replace("_", " ").capitalize(), ", ".join(v.strip() for v in values if v.strip()))
        for name, values in request.POST.lists()
        if name not in _NOT_TYPED_TEXT and any(v.strip() for v in values)
    ]
    query = urlencode({"expired": 1, "next": request.path})
    response = render(
        request,
        "accounts/session_ended.html",
        {"typed": typed, "login_url": f"{login_url}?{query}"},
    )
    add_never_cache_headers(response)
    return response


class MFARequiredMiddleware:
    """With MFA_REQUIRED on, a password-only session can reach nothing but the steps that
    finish (or abandon) the login and the health probes.

    The patient portal needs no exemption: patients have no staff session, so this never
    stops them, while the portal's staff pages (``/p/staff/...``) must stay behind the
    second factor like every other staff page.
    """

    # (namespace, url name) pairs open to a password-only session. Anything else, including
    # recovery codes and every clinical page, needs the second factor.
    allowed = {
        ("accounts", "login"),
        ("accounts", "logout"),
        ("accounts", "mfa"),
        ("accounts", "mfa_enrol"),
        ("accounts", "invite_accept"),
        ("", "healthz"),
        ("", "readyz"),
        # A patient's link followed by staff mid-login: the link's own page says the browser
        # holds a staff session (nothing of the patient is shown, nothing is opened).
        ("portal", "exchange"),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if not (settings.MFA_REQUIRED and user is not None and user.is_authenticated):
            return None
        if user.is_verified():
            return None
        match = request.resolver_match
        if (match.namespace, match.url_name) in self.allowed:
            return None
        return redirect("accounts:mfa")


class StaffOTPMiddleware(OTPMiddleware):
    """django-otp's middleware as its documentation describes it: ``request.user`` (and
    ``request.auser()``) give the user with ``otp_device``, the confirmed device of theirs
    that the session names, else None, and ``is_verified()``; a session naming no such
    device loses the name. The device is read by one fixed statement per device model
    (``read_device``) instead of django-otp's ORM lookup compiled on each request: every
    staff request reads it, and the bench's session-page and note-form targets need that
    compile saved. It is still read on every request, so a device removed or unconfirmed
    (recovery codes regenerated, second factor reset) ends verification at once. A name of
    a model that is not a device is no device (django-otp's own lookup fails on it with a
    server error)."""

    # Django runs it synchronously (every other middleware here is synchronous anyway).
    async_capable = False

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None:
            request.user = SimpleLazyObject(functools.partial(_verified, request, user))
        auser = getattr(request, "auser", None)
        if auser is not None:
            request.auser = functools.partial(_averified, request, auser)
        return self.get_response(request)


def _verified(request, user):
    user.otp_device = None
    user.is_verified = functools.partial(is_verified, user)
    if user.is_authenticated:
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        device = read_device(persistent_id) if persistent_id else None
        # django-otp's binding: the user's own device, and confirmed.
        if device is not None and (device.user_id != user.pk or not device.confirmed):
            device = None
        if device is None and DEVICE_ID_SESSION_KEY in request.session:
            del request.session[DEVICE_ID_SESSION_KEY]
        user.otp_device = device
    return user


async def _averified(request, auser):
    return await sync_to_async(_verified)(request, await auser())


def _device_statement(model) -> tuple[str, list[rows.Columns]]:
    quote = connection.ops.quote_name
    device = rows.Columns(model, "d")
    sql = (
        f"SELECT {device.sql} FROM {quote(model._meta.db_table)} d"  # noqa: S608 - names from the model  # nosec B608
        f" WHERE d.{quote(model._meta.pk.column)} = %s"
    )
    return sql, [device]


def read_device(persistent_id: str):
    """The device ``persistent_id`` names (``app_label.model_name/pk``, as
    ``Device.persistent_id`` writes it; django-otp's older full import paths are read as
    django-otp reads them), as ``Device.from_persistent_id`` gives it; None for a device
    that is gone, a name that is unreadable, of no model or of a model that is not a
    device."""
    if persistent_id.count(".") > 1:
        parts = persistent_id.split(".")
        persistent_id = ".".join((parts[-3], parts[-1]))
    try:
        model_label, device_id = persistent_id.rsplit("/", 1)
        app_label, model_name = model_label.split(".")
        model = apps.get_model(app_label, model_name)
        pk = int(device_id)
    except (ValueError, LookupError):
        return None
    if not issubclass(model, Device):
        return None
    if not rows.column_holds(model, pk):
        return None  # as the ORM answers an id outside the column's range: no such row
    sql, parts = rows.statement(
        f"otp-device:{model._meta.label_lower}", lambda: _device_statement(model)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return None if row is None else rows.instances(row, parts)[0]
