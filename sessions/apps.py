from django.apps import AppConfig


class TherapyConfig(AppConfig):
    # The package is ``sessions``; the label is not, because django.contrib.sessions owns it.
    name = "sessions"
    label = "therapy"
    verbose_name = "Therapy sessions, measures, homework and notifications"

    def ready(self) -> None:
        from ipt_clinic import staff_mail
        from patients import endings

        from .outbox import on_staff_mail
        from .services import courses_close_loop

        staff_mail.register_outbox(on_staff_mail)
        endings.register_closer(courses_close_loop)
