from django.apps import AppConfig


class TherapyConfig(AppConfig):
    # The package is ``sessions``; the label is not, because django.contrib.sessions owns it.
    name = "sessions"
    label = "therapy"
    verbose_name = "Therapy sessions, measures, homework and notifications"
