"""Staff session limits and the second factor."""

from datetime import datetime
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

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
    """django-otp's middleware, with one refusal added: a session naming something that is
    not a second-factor device has no second factor. django-otp's own lookup answers None for
    a device that is gone or a name it cannot read, but fails with an AttributeError (a
    server error) on the name of a model that is not a device."""

    def __call__(self, request):
        session = getattr(request, "session", None)
        # Only a session the browser names (a staff or portal session, read for its user
        # anyway): a request without one loads nothing here.
        if session is not None and session.session_key is not None:
            persistent_id = session.get(DEVICE_ID_SESSION_KEY)
            if persistent_id and not _names_a_device_model(persistent_id):
                del session[DEVICE_ID_SESSION_KEY]
        return super().__call__(request)


def _names_a_device_model(persistent_id: str) -> bool:
    """False only when ``persistent_id`` (``app_label.model_name/pk``, as
    ``Device.persistent_id`` writes it) names a model that is not a device; a name that is
    unreadable or of no model is left to django-otp, which answers None for it."""
    try:
        model = apps.get_model(persistent_id.rsplit("/", 1)[0])
    except (AttributeError, ValueError, LookupError):
        return True
    return issubclass(model, Device)
