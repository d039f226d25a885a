from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications (the outbox)"

    def ready(self) -> None:
        from ipt_clinic import staff_mail

        from .outbox import staff_mail_put

        staff_mail.register_outbox(staff_mail_put)
