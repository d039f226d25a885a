"""The sessions app's template filters: "session x of N", written the one way
(``sessions.display``) on every page above the sessions app that shows it."""

from django import template

register = template.Library()


# "session x of N", written the one way (sessions.display) on every page that shows it.


@register.filter
def session_count(session) -> str:
    """``{{ session|session_count }}``: the session read with its course and ``status_rank``."""
    from sessions.display import count_for_session

    return count_for_session(session)


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
