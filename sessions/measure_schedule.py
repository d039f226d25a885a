"""When a course's PHQ-9 is due: the one rule the clinic dashboard counts as "PHQ-9 overdue"
and the portal shows the patient as "due before your next session".

The rule reads the course's kept figures alone (``latest_phq9_at``, ``start_date``,
``sessions_attended``, ``previous_attended_at``: kept by this layer as scores and attendance
are recorded), so the dashboard can count it over a clinic's courses in one query.

A maintenance course asks for its PHQ-9 once a month instead (``phases.maintenance``'s
check-in), so the portal uses its check-in there.
"""

from datetime import date, datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from phases.models import CourseStatus, CourseType, TreatmentCourse

from .models import SessionStatus, TherapySession

PHQ9_MAX_AGE_DAYS = 14
# The course keeps the start of its last two attended sessions for this rule.
PHQ9_MAX_SESSIONS_WITHOUT = 2

PHQ9_OVERDUE_RULE = (
    f"An active course is PHQ-9 overdue when its last PHQ-9 is more than {PHQ9_MAX_AGE_DAYS} "
    f"days old, or {PHQ9_MAX_SESSIONS_WITHOUT} or more attended sessions have taken place since "
    f"it. A course with no PHQ-9 yet is overdue once it is {PHQ9_MAX_AGE_DAYS} days old or has "
    f"had {PHQ9_MAX_SESSIONS_WITHOUT} attended sessions."
)


def phq9_overdue_condition(*, now: datetime, today: date) -> Q:
    """The condition on a course's own columns that makes its PHQ-9 overdue at ``now``
    (``today``: that moment's date in the clinic's time zone). Whether the course is active
    is the caller's to add."""
    max_age = timedelta(days=PHQ9_MAX_AGE_DAYS)
    never = Q(latest_phq9_at__isnull=True) & (
        Q(start_date__lte=today - max_age) | Q(sessions_attended__gte=PHQ9_MAX_SESSIONS_WITHOUT)
    )
    stale = Q(latest_phq9_at__lt=now - max_age)
    # Two attended sessions after the latest PHQ-9: the one before the last is after it.
    sessions_since = Q(previous_attended_at__gt=F("latest_phq9_at"))
    return never | stale | sessions_since


def phq9_asks_before_sessions(course: TreatmentCourse) -> bool:
    """Whether the rule below applies to ``course`` at all: an active course of IPT (a
    maintenance course has its monthly check-in instead)."""
    return course.status == CourseStatus.ACTIVE and course.course_type == CourseType.ACUTE


def phq9_due_instant(next_start: datetime | None, now: datetime) -> datetime:
    """The moment the rule is read at for a patient whose next session starts at
    ``next_start`` (None: none booked): that start, from ``PHQ9_MAX_AGE_DAYS`` before it,
    else ``now``."""
    if next_start is not None and next_start - now <= timedelta(days=PHQ9_MAX_AGE_DAYS):
        return next_start
    return now


def phq9_due_before_next_session(
    course: TreatmentCourse, *, tz, now: datetime | None = None
) -> bool:
    """Whether the patient is asked for a PHQ-9 before their next session: the course would be
    PHQ-9 overdue (``phq9_overdue_condition``) when that session starts. Said from
    ``PHQ9_MAX_AGE_DAYS`` before the session (a PHQ-9 taken earlier would be too old by then),
    or at once when it is overdue already, and with no session booked when it is overdue now.
    A PHQ-9 sent in answer always clears it. Two queries: the next session, the rule.

    Only for an active course of IPT: a maintenance course has its monthly check-in."""
    if not phq9_asks_before_sessions(course):
        return False
    now = now or timezone.now()
    next_start = (
        TherapySession.objects.filter(
            clinic_id=course.clinic_id,
            course_id=course.pk,
            status=SessionStatus.SCHEDULED,
            scheduled_start__gte=now,
        )
        .order_by("scheduled_start")
        .values_list("scheduled_start", flat=True)
        .first()
    )
    at = phq9_due_instant(next_start, now)
    return (
        TreatmentCourse.objects.filter(clinic_id=course.clinic_id, pk=course.pk)
        .filter(phq9_overdue_condition(now=at, today=timezone.localdate(at, tz)))
        .exists()
    )
