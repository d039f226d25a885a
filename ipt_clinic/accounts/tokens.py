"""Invitation links: a password-reset-style token that dies once it has been used."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class InviteTokenGenerator(PasswordResetTokenGenerator):
    """Valid for PASSWORD_RESET_TIMEOUT (STAFF_INVITE_DAYS). Setting the password, logging in,
    activation or deactivation all change the hashed state, so a used or withdrawn invitation
    link stops working."""

    key_salt = "ipt_clinic.accounts.tokens.InviteTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        deactivated = "" if user.deactivated_at is None else user.deactivated_at.isoformat()
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}{deactivated}"


invite_token_generator = InviteTokenGenerator()
