"""The staff mails the accounts own, written when the outbox sends them (see
``ipt_clinic.staff_mail``)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ipt_clinic.staff_mail import NothingToSend, StaffMail

from .models import User
from .tokens import invite_token_generator, password_reset_token_generator

INVITE = "staff_invite"
RESET_MAIL = "staff_password_reset"


def invitation_pending(user: User) -> bool:
    """True while ``user`` was invited and has neither accepted nor been withdrawn."""
    return not user.is_active and user.deactivated_at is None and not user.has_usable_password()


def invitation_withdrawn(user: User) -> bool:
    """True when ``user`` was invited and the invitation withdrawn before it was accepted (the
    account never had a password)."""
    return not user.is_active and user.deactivated_at is not None and not user.has_usable_password()


def invitation_mail(user_id: int) -> StaffMail:
    """The invitation to ``user_id``, with a set-password link whose token is made now.

    The token is never stored: it is an HMAC of the account's state and the time it is made
    (``InviteTokenGenerator``), so one made when the mail leaves is as good as one made at
    the invitation, and it stays valid STAFF_INVITE_DAYS days from the moment it is sent.
    """
    user = User.objects.select_related("clinic").filter(pk=user_id).first()
    if user is None or not invitation_pending(user):
        raise NothingToSend("The invitation was accepted or withdrawn.")
    url = settings.SITE_URL + reverse(
        "accounts:invite_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": invite_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "clinic": user.clinic,
        "url": url,
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    return StaffMail(
        recipient=user.email,
        subject=render_to_string("accounts/email/invite_subject.txt", context).strip(),
        text=render_to_string("accounts/email/invite.txt", context),
    )


def password_reset_mail(user_id: int) -> StaffMail:
    """The "forgot password" mail to ``user_id``, with a link whose token is made now (never
    stored, never logged): valid STAFF_PASSWORD_RESET_MINUTES from the moment it is sent."""
    user = User.objects.select_related("clinic").filter(pk=user_id).first()
    if user is None or not user.is_active or user.deactivated_at is not None:
        raise NothingToSend("The account is no longer active.")
    url = settings.SITE_URL + reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": password_reset_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "clinic": user.clinic,
        "url": url,
        "minutes": settings.STAFF_PASSWORD_RESET_MINUTES,
    }
    return StaffMail(
        recipient=user.email,
        subject=render_to_string("accounts/email/password_reset_subject.txt", context).strip(),
        text=render_to_string("accounts/email/password_reset.txt", context),
    )
