"""The attendance figures a course keeps (``sessions_attended``, ``last_attended_at``,
``previous_attended_at``), worked out again from its sessions whenever attendance changes.

``sessions.services.session_record_attendance`` is the only change of a session to or from
attended; it calls ``refresh_attendance_figures`` in its transaction, after locking the
course row, so two attendances recorded at once for one course cannot leave a stale count.
Bulk writers (the demo seed, migrations) set or refresh the figures themselves.
"""

from collections.abc import Iterable

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from phases.models import TreatmentCourse

from .models import SessionStatus, TherapySession


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
