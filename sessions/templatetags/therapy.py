"""``{% course_sessions_panel course transitions %}``: the course's sessions, outcome and score
chart, for pages of lower layers (the course page) that cannot import the sessions app. The
course's phase changes, when the page has them already (in order), are not read again."""

from django import template

register = template.Library()


@register.inclusion_tag("sessions/_course_panel.html", takes_context=True)
def course_sessions_panel(context, course, transitions=None):
    from sessions.views import course_sessions_context

    return {
        "course": course,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
        **course_sessions_context(course, transitions=transitions),
    }
