"""Changes to staff accounts: invitations, deactivation, server-side sessions, second factor."""

import logging
from importlib import import_module

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ipt_clinic import staff_mail
from ipt_clinic.audit.services import AuditAction, audit_record, diff_fields
from ipt_clinic.editing import save_versioned

from .mail import INVITE, RESET_MAIL, invitation_pending, invitation_withdrawn
from .models import Clinic, Role, StaffSession, User

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10


def _check_admin_of(by: User, clinic_id: int | None) -> None:
    if not (by.is_active and by.is_clinic_admin and by.clinic_id == clinic_id):
        raise PermissionDenied("Only a clinic admin of this clinic may manage its staff.")


def staff_session_start(*, user: User, session_key: str) -> StaffSession:
    """Remember that ``session_key`` belongs to ``user`` (called at login), and forget rows
    for sessions old enough to have expired anyway."""
    StaffSession.objects.filter(
        user=user, created_at__lt=timezone.now() - settings.SESSION_ABSOLUTE_TIMEOUT
    ).delete()
    staff_session, _ = StaffSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user}
    )
    return staff_session


def staff_session_rotate(*, session) -> None:
    """Give a session a new key when its privileges rise (the second factor passed), and keep
    the register pointing at it."""
    old_key = session.session_key
    session.cycle_key()
    if old_key:
        StaffSession.objects.filter(session_key=old_key).update(session_key=session.session_key)


def staff_session_end(*, session_key: str | None) -> None:
    if session_key:
        StaffSession.objects.filter(session_key=session_key).delete()


def staff_sessions_end_all(*, user: User) -> int:
    """Delete every server-side session of ``user``: their cookies stop working at once."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(StaffSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    StaffSession.objects.filter(user=user).delete()
    return len(keys)


def staff_invite(
    *,
    clinic: Clinic,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    by: User,
) -> User:
    """Create an inactive staff account and queue the mail inviting its owner to set a
    password: into the outbox in this transaction, so the mail exists exactly when the
    account does and leaves when the mail server takes it (retried while it is down).

    Inviting an address again while its invitation is not accepted queues the invitation
    again (an unsent or failed mail is sent at last; after a delivered one, a new copy) and
    leaves the account as it is. ``by`` must be an active clinic admin of ``clinic``; an
    address taken otherwise (an active or withdrawn account, another clinic's) is a
    ValidationError.
    """
    _check_admin_of(by, clinic.pk)
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is not None and user.clinic_id == clinic.pk and invitation_withdrawn(user):
            # A withdrawn invitation (a wrong role, a name misspelt) is opened again as this
            # one: a new unusable password changes the hashed state, so no link made before
            # the withdrawal works again.
            user.first_name, user.last_name = first_name.strip(), last_name.strip()
            user.role = role
            user.deactivated_at = None
            user.set_unusable_password()
            user.full_clean()
            user.save()
            summary = (
                f"Invited {user.get_full_name() or email} as {Role(role).label.lower()}, "
                "after a withdrawn invitation"
            )
        elif user is not None:
            if user.clinic_id != clinic.pk or not invitation_pending(user):
                raise ValidationError(
                    {"email": "A member of staff with this email already exists."}
                )
            summary = f"Invited {user.get_full_name() or user.email} again"
        else:
            user = User(
                username=email[:150],
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                clinic=clinic,
                role=role,
                is_active=False,
            )
            user.set_unusable_password()
            user.full_clean()
            user.save()
            summary = f"Invited {user.get_full_name() or email} as {Role(role).label.lower()}"
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=clinic.pk,
            actor=by,
            target=user,
            summary=summary,
        )
        staff_mail.queue(kind=INVITE, about_id=user.pk, clinic_id=clinic.pk, recipient=user.email)
    return user


def staff_invite_accept(*, user: User, password: str) -> User:
    """Set the invited user's password and activate the account. The caller has checked the
    invitation token and validated the password."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active or user.deactivated_at is not None:
            raise ValidationError("This invitation has already been used or withdrawn.")
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=user,
            target=user,
            summary="Accepted the invitation and set a password",
        )
    return user


def staff_deactivate(*, user: User, by: User) -> User:
    """Deactivate ``user``: no more logins, and every session they have ends now.

    ``by`` must be an active clinic admin of the user's clinic, and not the user themself.
    Deactivating an already deactivated user changes nothing.
    """
    _check_admin_of(by, user.clinic_id)
    if by.pk == user.pk:
        raise ValidationError("You cannot deactivate your own account.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.deactivated_at is not None and not user.is_active:
            return user
        user.is_active = False
        user.deactivated_at = timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        ended = staff_sessions_end_all(user=user)
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=by,
            target=user,
            summary=f"Deactivated {user.display_name}; {ended} session(s) ended",
            changes={"is_active": [True, False]},
        )
    return user


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def mfa_enrol_confirm(*, user: User, device: TOTPDevice) -> list[str]:
    """Confirm ``device`` (its code has been checked) as the user's authenticator, retire any
    other, and return ten fresh recovery codes: the only time they are shown."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=user,
            target=user,
            summary="Set up an authenticator app and recovery codes",
        )
    return codes


def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working)."""
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=user,
            target=user,
            summary="Replaced recovery codes",
        )
    return codes


def staff_invite_resend(*, user: User, by: User) -> User:
    """Queue ``user``'s invitation again (a lost or expired mail): its link, made when the
    mail leaves, is valid STAFF_INVITE_DAYS from then. Refused once the invitation was
    accepted or withdrawn. ``by`` must be an active clinic admin of the user's clinic."""
    _check_admin_of(by, user.clinic_id)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not invitation_pending(user):
            raise ValidationError("This invitation was accepted or withdrawn: nothing to resend.")
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=by,
            target=user,
            summary=f"Sent the invitation to {user.get_full_name() or user.email} again",
        )
        staff_mail.queue(
            kind=INVITE, about_id=user.pk, clinic_id=user.clinic_id, recipient=user.email
        )
    return user


def staff_invite_withdraw(*, user: User, by: User) -> User:
    """Withdraw ``user``'s invitation before it is accepted (sent to the wrong person, or no
    longer wanted): its links stop working and a mail still queued is not sent. The address
    can be invited again later. Refused once accepted or withdrawn. ``by`` must be an active
    clinic admin of the user's clinic."""
    _check_admin_of(by, user.clinic_id)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not invitation_pending(user):
            raise ValidationError("This invitation was accepted or withdrawn already.")
        user.deactivated_at = timezone.now()
        user.save(update_fields=["deactivated_at"])
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=by,
            target=user,
            summary=f"Withdrew the invitation to {user.get_full_name() or user.email}",
        )
    return user


def password_reset_candidates(email: str):
    """The accounts a "forgot password" request for ``email`` is for: active members of a
    clinic's staff with a password (an invitation not yet accepted is resent by the admin)."""
    return User.objects.filter(
        email__iexact=email.strip(), is_active=True, deactivated_at=None, clinic__isnull=False
    ).order_by("pk")


def staff_password_reset_request(*, email: str, request=None) -> None:
    """Queue a "forgot password" mail to each account of ``email`` (at most one, the address
    being unique), in one transaction with its audit event. The link's token is made when
    the mail leaves (``mail.password_reset_mail``) and never stored. An address no account
    uses changes nothing but the audit trail, and the caller answers the same either way."""
    with transaction.atomic():
        found = [user for user in password_reset_candidates(email) if user.has_usable_password()]
        for user in found:
            audit_record(
                action=AuditAction.STAFF,
                clinic_id=user.clinic_id,
                target=user,
                summary="Asked for a password reset link by email",
                request=request,
            )
            staff_mail.queue(
                kind=RESET_MAIL,
                about_id=user.pk,
                clinic_id=user.clinic_id,
                recipient=user.email,
            )
        if not found:
            audit_record(
                action=AuditAction.STAFF,
                clinic_id=None,
                summary="Asked for a password reset link for an address no active account uses",
                request=request,
            )


def staff_password_reset_complete(*, user: User, password: str, request=None) -> User:
    """Set the password of ``user``, who opened a valid reset link (the caller checked the
    token and validated the password), and end every session they had: whoever knew the old
    password is logged out. The second factor stays as it was: the next login asks for it."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active or user.deactivated_at is not None:
            raise ValidationError("This account is not active: its password cannot be reset.")
        user.set_password(password)
        user.save(update_fields=["password"])
        ended = staff_sessions_end_all(user=user)
        audit_record(
            action=AuditAction.STAFF,
            clinic_id=user.clinic_id,
            actor=user,
            target=user,
            summary=f"Reset their password through an email link; {ended} session(s) ended",
            request=request,
        )
    return user


CLINIC_SETTINGS_FIELDS = [
    "time_zone",
    "reminder_lead_hours",
    "quiet_hours_start",
    "quiet_hours_end",
    "sender_name",
    "phone",
    "duty_staff",
    "duty_name",
    "duty_email",
    "duty_phone",
    "escalation_minutes",
    "emergency_number",
    "crisis_line_name",
    "crisis_line_number",
]


def clinic_settings_update(
    *, clinic: Clinic, by: User, expected_version: int | None, request=None, **fields
) -> dict[str, list]:
    """Change the clinic's settings (``CLINIC_SETTINGS_FIELDS`` only) while the clinic row is
    still at ``expected_version`` (the settings form's; ``None``: no check, internal callers
    only), with one audit event listing each changed field as ``[old, new]``. Returns those
    changes; with none, nothing is written. Refused with ``StaleEditError`` when another
    admin saved in between and what was asked for differs from what is stored now, with
    ValidationError for a value the clinic's rules refuse, and with PermissionDenied unless
    ``by`` is an active clinic admin of this clinic."""
    _check_admin_of(by, clinic.pk)
    unknown = set(fields) - set(CLINIC_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"clinic_settings_update() cannot change {sorted(unknown)}")
    with transaction.atomic():
        row = Clinic.objects.select_for_update().get(pk=clinic.pk)
        before = {name: getattr(row, name) for name in CLINIC_SETTINGS_FIELDS}
        for name, value in fields.items():
            setattr(row, name, value)
        changes = diff_fields(before, row, CLINIC_SETTINGS_FIELDS)
        if not changes:
            return {}
        row.full_clean()
        save_versioned(row, expected_version=expected_version, fields=list(changes))
        labels = ", ".join(Clinic._meta.get_field(name).verbose_name for name in changes)
        audit_record(
            action=AuditAction.UPDATE,
            clinic_id=row.pk,
            actor=by,
            target=row,
            summary=f"Clinic settings changed: {labels}",
            changes=changes,
            request=request,
        )
    clinic.version = row.version
    for name in changes:
        setattr(clinic, name, getattr(row, name))
    return changes
