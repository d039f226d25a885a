from django.apps import AppConfig


class TherapyConfig(AppConfig):
    # The package is ``sessions``; the label is not, because django.contrib.sessions owns it.
    name = "sessions"
    label = "therapy"
    verbose_name = "Therapy sessions, measures and homework"

    def ready(self) -> None:
        from patients import endings
        from patients.header import register_header_part
        from phases import panels

        from . import notices
        from .homework import course_homework_context
        from .selectors import header_sessions
        from .services import courses_close_loop
        from .views import course_sessions_context
        from .worksheets import course_worksheets_context

        notices.register()
        endings.register_closer(courses_close_loop)
        register_header_part("sessions", header_sessions)
        panels.register_course_panel(
            template="sessions/_course_panel.html", context=course_sessions_context
        )
        panels.register_course_panel(
            template="sessions/worksheet_panel.html", context=course_worksheets_context
        )
        panels.register_course_panel(
            template="sessions/homework_panel.html", context=course_homework_context
        )
