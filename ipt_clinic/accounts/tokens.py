"""Invitation and "forgot password" links: password-reset-style tokens that die once used."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.http import base36_to_int


class InviteTokenGenerator(PasswordResetTokenGenerator):
    """Valid for PASSWORD_RESET_TIMEOUT (STAFF_INVITE_DAYS). Setting the password, logging in,
    activation or deactivation all change the hashed state, so a used or withdrawn invitation
    link stops working."""

    key_salt = "ipt_clinic.accounts.tokens.InviteTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        deactivated = "" if user.deactivated_at is None else user.deactivated_at.isoformat()
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}{deactivated}"


invite_token_generator = InviteTokenGenerator()


class StaffPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """The "forgot password" links: valid STAFF_PASSWORD_RESET_MINUTES from the moment the mail
    is written, and once: setting the password or logging in changes the hashed state
    (Django's own), as does deactivation."""

    key_salt = "ipt_clinic.accounts.tokens.StaffPasswordResetTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        deactivated = "" if user.deactivated_at is None else user.deactivated_at.isoformat()
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}{deactivated}"

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        # Django holds every token to one process-wide age, PASSWORD_RESET_TIMEOUT, which is
        # the invitations' days here; a reset link gets minutes. The token starts with the
        # second it was made, in base 36, counted as Django counts it (naive local time from
        # 2001-01-01), and super() has just checked it is authentic.
        made = base36_to_int(token.split("-")[0])
        now = int((datetime.now() - datetime(2001, 1, 1)).total_seconds())  # noqa: DTZ001, DTZ005
        return now - made <= settings.STAFF_PASSWORD_RESET_MINUTES * 60


password_reset_token_generator = StaffPasswordResetTokenGenerator()
