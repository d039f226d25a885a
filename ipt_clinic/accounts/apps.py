from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ipt_clinic.accounts"
    label = "accounts"
    verbose_name = "Staff accounts and clinics"

    def ready(self) -> None:
        from ipt_clinic import staff_mail

        from . import signals  # noqa: F401
        from .mail import INVITE, RESET_MAIL, invitation_mail, password_reset_mail

        staff_mail.register_kind(name=INVITE, label="Staff invitation", compose=invitation_mail)
        staff_mail.register_kind(
            name=RESET_MAIL, label="Password reset link", compose=password_reset_mail
        )
