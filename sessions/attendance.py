"""The attendance figures kept beside the sessions, worked out again from them whenever
attendance changes: a course's (``sessions_attended``, ``last_attended_at``,
``previous_attended_at``) and a therapist's week (``AttendanceWeek``: attended and
did-not-attend sessions from Monday to Sunday, clinic time).

``sessions.services.session_record_attendance`` is the only change of a session to or from
attended or did-not-attend; it calls ``refresh_attendance_figures`` and
``refresh_attendance_week`` in its transaction, after locking the course row and the week
row, so two attendances recorded at once cannot leave a stale count. Bulk writers (the demo
seed, migrations) set or rebuild the figures themselves (``rebuild_attendance_weeks``).
"""

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import Count, DateField, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncWeek

from phases.models import TreatmentCourse

from .models import AttendanceWeek, SessionStatus, TherapySession
from .selectors import week_bounds, week_start_for


def attendance_figures() -> dict:
    """The three figures as expressions over a course (for ``QuerySet.update``)."""
    attended = TherapySession.objects.filter(
        clinic_id=OuterRef("clinic_id"), course=OuterRef("pk"), status=SessionStatus.ATTENDED
    ).order_by()
    count = attended.values("course").annotate(n=Count("pk")).values("n")
    latest_first = attended.order_by("-scheduled_start").values("scheduled_start")
    return {
        "sessions_attended": Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
        "last_attended_at": Subquery(latest_first[:1]),
        "previous_attended_at": Subquery(latest_first[1:2]),
    }


def refresh_attendance_figures(course_ids: Iterable[int]) -> None:
    """Work the attendance figures of these courses out again from their sessions."""
    TreatmentCourse.objects.filter(pk__in=list(course_ids)).update(**attendance_figures())


_WEEK_COUNTS = {
    "attended": Count("pk", filter=Q(status=SessionStatus.ATTENDED)),
    "no_show": Count("pk", filter=Q(status=SessionStatus.NO_SHOW)),
}


def refresh_attendance_week(session: TherapySession, tz: ZoneInfo) -> None:
    """Work the week ``session`` falls in out again, for its therapist, from their sessions.
    Call inside the transaction that changed the session: the week's row is locked before
    the sessions are counted, so a second attendance recorded at once in the same week waits
    and then counts this one too."""
    monday = week_start_for(session.scheduled_start.astimezone(tz).date())
    week, _ = AttendanceWeek.objects.select_for_update().get_or_create(
        clinic_id=session.clinic_id, therapist_id=session.therapist_id, week_start=monday
    )
    start, end = week_bounds(monday, tz)
    counts = TherapySession.objects.filter(
        clinic_id=session.clinic_id,
        therapist_id=session.therapist_id,
        scheduled_start__gte=start,
        scheduled_start__lt=end,
    ).aggregate(**_WEEK_COUNTS)
    AttendanceWeek.objects.filter(pk=week.pk).update(**counts)


def rebuild_attendance_weeks(clinic_id: int, tz: ZoneInfo) -> int:
    """Work every week of a clinic out again from its sessions (after a bulk load); returns
    the number of weeks with attendance."""
    weeks = (
        TherapySession.objects.filter(
            clinic_id=clinic_id, status__in=[SessionStatus.ATTENDED, SessionStatus.NO_SHOW]
        )
        .annotate(week=TruncWeek("scheduled_start", tzinfo=tz, output_field=DateField()))
        .order_by()
        .values_list("therapist_id", "week")
        .annotate(**_WEEK_COUNTS)
    )
    rows = [
        AttendanceWeek(
            clinic_id=clinic_id,
            therapist_id=therapist_id,
            week_start=monday,
            attended=attended,
            no_show=no_show,
        )
        for therapist_id, monday, attended, no_show in weeks
    ]
    # Weeks that no longer have any attendance (none in practice) keep no stale figure.
    AttendanceWeek.objects.filter(clinic_id=clinic_id).update(attended=0, no_show=0)
    AttendanceWeek.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["clinic", "therapist", "week_start"],
        update_fields=["attended", "no_show"],
    )
    return len(rows)
