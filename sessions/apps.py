from django.apps import AppConfig


class TherapyConfig(AppConfig):
    # The package is ``sessions``; the label is not, because django.contrib.sessions owns it.
    name = "sessions"
    label = "therapy"
    verbose_name = "Therapy sessions, measures and homework"

    def ready(self) -> None:
        from patients import endings

        from . import notices
        from .services import courses_close_loop

        notices.register()
        endings.register_closer(courses_close_loop)
