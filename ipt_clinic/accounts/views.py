"""Staff login (password, then the second factor), logout, enrolment and invitations."""

import base64
from base64 import b32encode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import (
    PasswordResetCompleteView as DjangoPasswordResetCompleteView,
)
from django.contrib.auth.views import (
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.core.exceptions import ValidationError
from django.db.models import Case, Q, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ipt_clinic.audit.services import AuditAction, audit_record

from .forms import (
    CodeForm,
    EnrolForm,
    InviteAcceptForm,
    LoginForm,
    NewPasswordForm,
    PasswordResetRequestForm,
)
from .middleware import LOGOUT_REASON_ATTR
from .models import User
from .services import (
    mfa_enrol_confirm,
    recovery_codes_regenerate,
    staff_invite_accept,
    staff_password_reset_complete,
    staff_password_reset_request,
    staff_session_rotate,
)
from .throttle import (
    account_for_login,
    account_for_user,
    throttle_clear_login,
    throttle_record_failure,
    throttle_wait_seconds,
)
from .tokens import invite_token_generator, password_reset_token_generator

SESSION_NEXT = "staff_login_next"
SESSION_NEW_CODES = "staff_new_recovery_codes"
GENERIC_LOGIN_ERROR = "That username or password is not right. Both are case-sensitive."


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_clinic_admin:
        return redirect("caseload:dashboard")
    return redirect("caseload:therapist_home")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _find_staff(identifier: str) -> User | None:
    """The account a username or email address names, if any (the exact username first).
    One query whatever the name turns out to be, so that finding it takes as long for a
    username, an email address and a name nobody has."""
    return (
        User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))
        .order_by(Case(When(username=identifier, then=0), default=1), "pk")
        .first()
    )


def _throttled(request: HttpRequest, wait: int, user: User | None) -> HttpResponse:
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        clinic_id=user.clinic_id if user is not None else None,
        target=user,
        summary="Refused: too many failed attempts",
        request=request,
    )
    response = render(
        request, "accounts/throttled.html", {"wait_minutes": -(-wait // 60)}, status=429
    )
    response["Retry-After"] = str(wait)
    return response


def _record_login(request: HttpRequest, user: User, how: str, *, second_factor: bool) -> None:
    if second_factor:
        # The second factor raised the session's privileges: a new key for the new rights.
        staff_session_rotate(session=request.session)
    throttle_clear_login(request, user)
    audit_record(
        action=AuditAction.LOGIN,
        clinic_id=user.clinic_id,
        actor=user,
        target=user,
        summary=f"Logged in ({how})",
        request=request,
    )


def _finish_login(
    request: HttpRequest, user: User, how: str, *, second_factor: bool = True
) -> HttpResponse:
    _record_login(request, user, how, second_factor=second_factor)
    return redirect(_safe_next(request, request.session.pop(SESSION_NEXT, None)))


def _has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and (not settings.MFA_REQUIRED or request.user.is_verified()):
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["login"].strip()
        staff = _find_staff(identifier)
        # Counted by the name typed, not the account it names: the same answers for a
        # username, an email address and a name nobody has (see the throttle's docstring).
        account = account_for_login(identifier)
        wait = throttle_wait_seconds(request, account, user=staff)
        if wait:
            return _throttled(request, wait, staff)
        user = authenticate(
            request,
            username=staff.username if staff is not None else identifier,
            password=form.cleaned_data["password"],
        )
        if user is None:
            throttle_record_failure(request, account)
            audit_record(
                action=AuditAction.LOGIN_FAILED,
                clinic_id=staff.clinic_id if staff is not None else None,
                target=staff,
                summary=(
                    "Wrong password or inactive account"
                    if staff is not None
                    else "Unknown username or email"
                ),
                request=request,
            )
            form.add_error(None, GENERIC_LOGIN_ERROR)
        else:
            auth_login(request, user)  # a new session key: nothing from before login survives
            request.session[SESSION_NEXT] = next_url
            if not settings.MFA_REQUIRED:
                return _finish_login(request, user, "password", second_factor=False)
            return redirect("accounts:mfa" if _has_authenticator(user) else "accounts:mfa_enrol")
    context = {"form": form, "next": next_url, "expired": request.GET.get("expired") == "1"}
    return render(request, "accounts/login.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        setattr(request, LOGOUT_REASON_ATTR, "Logged out")
    auth_logout(request)  # flushes the server-side session and forgets its StaffSession row
    messages.info(request, "You have logged out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _verify_code(user: User, code: str):
    """The device that accepts ``code`` (an authenticator code or a recovery code), or None.
    django-otp checks inside a transaction with the device row locked, and uses each code
    once: the TOTP device refuses a time step it has seen, a recovery code is deleted."""
    if code.isdigit() and len(code) == 6:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    for device in devices:
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if user.is_verified():
        return redirect(_safe_next(request, request.session.pop(SESSION_NEXT, None)))
    if not _has_authenticator(user):
        return redirect("accounts:mfa_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = account_for_user(user)
        wait = throttle_wait_seconds(request, account, user=user)
        if wait:
            return _throttled(request, wait, user)
        device = _verify_code(user, form.cleaned_data["code"])
        if device is not None:
            django_otp.login(request, device)
            how = "recovery code" if isinstance(device, StaticDevice) else "authenticator app"
            return _finish_login(request, user, f"password and {how}")
        throttle_record_failure(request, account)
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            clinic_id=user.clinic_id,
            target=user,
            summary="Wrong second-factor code",
            request=request,
        )
        form.add_error("code", "That code is not right, or it has been used already.")
    return render(request, "accounts/mfa.html", {"form": form})


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """First login without an authenticator: scan, type a code, get recovery codes."""
    user = request.user
    if not user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if _has_authenticator(user):
        # Never let a password-only session replace an existing second factor.
        return redirect("home" if user.is_verified() else "accounts:mfa")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = account_for_user(user)
        wait = throttle_wait_seconds(request, account, user=user)
        if wait:
            return _throttled(request, wait, user)
        if device.verify_token(form.cleaned_data["code"]):
            request.session[SESSION_NEW_CODES] = mfa_enrol_confirm(user=user, device=device)
            django_otp.login(request, device)
            _record_login(request, user, "password and new authenticator app", second_factor=True)
            return redirect("accounts:recovery_codes")
        throttle_record_failure(request, account)
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            clinic_id=user.clinic_id,
            target=user,
            summary="Wrong code while setting up an authenticator app",
            request=request,
        )
        form.add_error("code", "That code is not right. Check the app and try the next code.")
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr_data_uri": _qr_data_uri(device.config_url),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "accounts/enrol.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows freshly made recovery codes once; POST replaces them with ten new ones."""
    if not request.user.is_verified():
        return redirect("accounts:mfa")
    if request.method == "POST":
        request.session[SESSION_NEW_CODES] = recovery_codes_regenerate(user=request.user)
        return redirect("accounts:recovery_codes")
    codes = request.session.pop(SESSION_NEW_CODES, None)
    remaining = sum(
        device.token_set.count()
        for device in StaticDevice.objects.filter(user=request.user, confirmed=True)
    )
    context = {
        "codes": codes,
        "remaining": remaining,
        "next": _safe_next(request, request.session.pop(SESSION_NEXT, None)),
    }
    return render(request, "accounts/recovery_codes.html", context)


def _invited_user(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None
    if user.is_active or user.deactivated_at is not None or user.has_usable_password():
        return None
    return user if invite_token_generator.check_token(user, token) else None


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    invited = _invited_user(uidb64, token)
    if invited is None:
        return render(request, "accounts/invite_accept.html", {"valid_link": False})
    form = InviteAcceptForm(invited, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff_invite_accept(user=invited, password=form.cleaned_data["new_password1"])
        except ValidationError:
            return render(request, "accounts/invite_accept.html", {"valid_link": False})
        messages.success(request, "Your password is set. Log in to finish setting up.")
        return redirect(settings.LOGIN_URL)
    context = {"valid_link": True, "form": form, "invited": invited}
    return render(request, "accounts/invite_accept.html", context)


# "Forgot password": Django's own views, with the mail sent through the outbox
# (``staff_password_reset_request``), a throttle, and a link that only sets the password: the
# next login still asks for the second factor.


def _reset_throttle_account(email: str) -> str:
    # Counted by the address typed, whether or not an account uses it, so the throttle
    # answers the same for both; apart from the login's counts of the same name.
    return f"password-reset:{email.strip().lower()}"


class PasswordResetRequestView(PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        account = _reset_throttle_account(email)
        wait = throttle_wait_seconds(self.request, account)
        if wait:
            audit_record(
                action=AuditAction.LOGIN_FAILED,
                clinic_id=None,
                summary="Refused a password reset request: too many from this address or for "
                "this email",
                request=self.request,
            )
            response = render(
                self.request,
                "accounts/password_reset_throttled.html",
                {"wait_minutes": -(-wait // 60)},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        # Every request counts, found or not: it sends mail, so it is limited like a guess.
        throttle_record_failure(self.request, account)
        staff_password_reset_request(email=email, request=self.request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetSentView(PasswordResetDoneView):
    """The same page whether or not an account uses the address."""

    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "minutes": settings.STAFF_PASSWORD_RESET_MINUTES,
        }


class PasswordResetConfirm(PasswordResetConfirmView):
    """Django's confirmation: the token moves from the address into the session at once (so
    it is not in the next page's Referer), then the new password is set."""

    form_class = NewPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    token_generator = password_reset_token_generator
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or not user.is_active or user.deactivated_at is not None:
            return None
        return user

    def form_valid(self, form):
        try:
            staff_password_reset_complete(
                user=self.user, password=form.cleaned_data["new_password1"], request=self.request
            )
        except ValidationError:
            self.validlink = False
            return self.render_to_response(self.get_context_data())
        # Whatever this browser held (the reset token, a session of the same person) goes:
        # the next step is a full login, second factor included.
        self.request.session.flush()
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(DjangoPasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
