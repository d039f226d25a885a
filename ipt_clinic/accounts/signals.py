"""Login and logout bookkeeping: session clock, server-side session register, audit of logout."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record

from .middleware import LOGOUT_REASON_ATTR, SESSION_LAST_SEEN, SESSION_LOGIN_AT
from .services import staff_session_end, staff_session_start


@receiver(user_logged_in, dispatch_uid="accounts.staff_logged_in")
def _staff_logged_in(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = timezone.now().isoformat()
    session[SESSION_LOGIN_AT] = now
    session[SESSION_LAST_SEEN] = now
    if session.session_key is None:
        session.save()
    staff_session_start(user=user, session_key=session.session_key)


@receiver(user_logged_out, dispatch_uid="accounts.staff_logged_out")
def _staff_logged_out(sender, request, user, **kwargs) -> None:
    if request is None or user is None:
        return
    session = getattr(request, "session", None)
    staff_session_end(session_key=session.session_key if session is not None else None)
    audit_record(
        action=AuditAction.LOGOUT,
        clinic_id=user.clinic_id,
        actor=user,
        target=user,
        summary=getattr(request, LOGOUT_REASON_ATTR, "Logged out"),
        request=request,
    )
