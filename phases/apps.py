from django.apps import AppConfig


class PhasesConfig(AppConfig):
    name = "phases"
    verbose_name = "IPT courses and phases"

    def ready(self) -> None:
        from patients.header import register_header_part

        from .selectors import header_course

        register_header_part("course", header_course)
