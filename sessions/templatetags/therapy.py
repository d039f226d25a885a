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


# "session x of N", written the one way (sessions.display) on every page that shows it.


@register.filter
def session_count(session) -> str:
    """``{{ session|session_count }}``: the session read with its course and ``status_rank``."""
    from sessions.display import count_for_session

    return count_for_session(session)


@register.filter
def held_count(course) -> str:
    """``{{ course|held_count }}``: the sessions held of the contract, from the course's kept
    figure."""
    from sessions.display import held_count as words

    return words(held=course.sessions_attended, planned=course.planned_sessions)


@register.filter
def next_session_count(course, start) -> str:
    """``{{ course|next_session_count:course.next_session_at }}``: the words for the course's
    next session ahead, starting at ``start``."""
    from sessions.display import session_count as words
    from sessions.models import SessionStatus

    if start is None:
        return ""
    return words(
        status=SessionStatus.SCHEDULED,
        start=start,
        rank=1,
        held=course.sessions_attended,
        planned=course.planned_sessions,
    )
