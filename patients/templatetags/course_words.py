"""``{{ course|held_count }}``: how far a course has come, in the words every page uses.

Here, in the lowest app whose pages show it (the patient's page), so that the patient, course
and caseload pages can all load it without reaching up the layers; it reads only the course's
kept figures (``sessions_attended``, ``planned_sessions``)."""

from django import template

register = template.Library()


def held_words(*, held: int, planned: int) -> str:
    """The course's own figure: "session 3 of 12" once three sessions were held (the same
    words as the third attended session's), until then "no session held yet (12 planned)"."""
    if held <= 0:
        return f"no session held yet ({planned} planned)"
    return f"session {held} of {planned}"


@register.filter
def held_count(course) -> str:
    return held_words(held=course.sessions_attended, planned=course.planned_sessions)
