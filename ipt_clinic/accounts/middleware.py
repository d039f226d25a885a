"""Staff session limits and the second factor."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

SESSION_LOGIN_AT = "staff_login_at"
SESSION_LAST_SEEN = "staff_last_seen"


class SessionTimeoutMiddleware:
    """Log staff out after SESSION_IDLE_TIMEOUT without a request or SESSION_ABSOLUTE_TIMEOUT
    after login, whichever comes first. Logout flushes the server-side session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now()
            login_at = request.session.get(SESSION_LOGIN_AT)
            last_seen = request.session.get(SESSION_LAST_SEEN)
            expired = (
                login_at is None
                or now - datetime.fromisoformat(login_at) > settings.SESSION_ABSOLUTE_TIMEOUT
                or (
                    last_seen
                    and now - datetime.fromisoformat(last_seen) > settings.SESSION_IDLE_TIMEOUT
                )
            )
            if expired:
                logout(request)
                if request.headers.get("HX-Request"):
                    response = self.get_response(request)
                    response["HX-Redirect"] = reverse(settings.LOGIN_URL)
                    return response
                return redirect(f"{reverse(settings.LOGIN_URL)}?expired=1&next={request.path}")
            request.session[SESSION_LAST_SEEN] = now.isoformat()
        return self.get_response(request)


class MFARequiredMiddleware:
    """With MFA_REQUIRED on, a password-only session can reach nothing but the second step."""

    allowed_prefixes = ("/accounts/", "/static/", "/healthz", "/readyz", "/p/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.MFA_REQUIRED
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(self.allowed_prefixes)
        ):
            return redirect("accounts:mfa")
        return self.get_response(request)
