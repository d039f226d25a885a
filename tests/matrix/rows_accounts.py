from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.matrix import Row


def _invite_kwargs(world) -> dict:
    """An open invitation in the world's clinic (made once per world)."""
    from ipt_clinic.accounts.models import User
    from ipt_clinic.accounts.tokens import invite_token_generator

    invited = world.extra.get("invited")
    if invited is None:
        invited = User(
            username="newcomer@example.org",
            email="newcomer@example.org",
            clinic=world.clinic,
            is_active=False,
        )
        invited.set_unusable_password()
        invited.save()
        world.extra["invited"] = invited
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(invited.pk)),
        "token": invite_token_generator.make_token(invited),
    }


def _reset_kwargs(world) -> dict:
    """A live "forgot password" link of the owner's."""
    from ipt_clinic.accounts.tokens import password_reset_token_generator

    return {
        "uidb64": urlsafe_base64_encode(force_bytes(world.owner.pk)),
        "token": password_reset_token_generator.make_token(world.owner),
    }


ROWS = {
    "accounts:login": [Row(audience="public")],
    "accounts:logout": [Row(audience="staff", method="post")],
    # The second-factor steps belong to a logged-in (password) session: anonymous to login.
    "accounts:mfa": [Row(audience="staff")],
    "accounts:mfa_enrol": [Row(audience="staff")],
    "accounts:recovery_codes": [Row(audience="staff"), Row(audience="staff", method="post")],
    "accounts:invite_accept": [Row(audience="public", kwargs=_invite_kwargs)],
    # Forgot password: open to anyone, the same answer whoever asks (tests/accounts).
    "accounts:password_reset": [
        Row(audience="public"),
        Row(audience="public", method="post", data=lambda w: {"email": w.owner.email}),
    ],
    "accounts:password_reset_sent": [Row(audience="public")],
    "accounts:password_reset_confirm": [Row(audience="public", kwargs=_reset_kwargs)],
    "accounts:password_reset_complete": [Row(audience="public")],
}
