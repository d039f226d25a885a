from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ipt_clinic.accounts"
    label = "accounts"
    verbose_name = "Staff accounts and clinics"

    def ready(self) -> None:
        from . import signals  # noqa: F401
