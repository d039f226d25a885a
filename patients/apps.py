from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients and interpersonal inventory"

    def ready(self) -> None:
        from . import notices

        notices.register()
