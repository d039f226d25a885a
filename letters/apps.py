from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Discharge letters"

    def ready(self) -> None:
        from patients.sections import register_patient_section
        from phases import panels

        from .selectors import course_letters_context, patient_letters_context

        panels.register_course_panel(
            template="letters/_course_panel.html", context=course_letters_context
        )
        register_patient_section(
            template="letters/_patient_letters.html", context=patient_letters_context
        )
