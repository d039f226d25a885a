"""The sender re-checks at send time that the course is still active (issue 19, point 2):
a reminder or homework notice whose course ended in the meantime, by any path, never goes."""

from datetime import UTC, datetime, timedelta

import pytest

from notifications.models import Notification
from phases.models import CourseStatus, TreatmentCourse
from sessions import notices
from tests.factories import AssignmentFactory, CourseFactory, SessionFactory
from tests.outbox_run import deliver_due

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def _due(rows: list[Notification]) -> None:
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
        due_at=NOW - timedelta(seconds=1)
    )


def test_it_never_sends_a_notice_of_a_course_that_ended_meanwhile(
    therapist, mail_server, time_machine
):
    time_machine.move_to(NOW, tick=False)
    mail_server.start()
    ended = CourseFactory(patient__primary_therapist=therapist)
    going_on = CourseFactory(patient__primary_therapist=therapist)
    reminder = notices.on_session_booked(
        SessionFactory(course=ended, scheduled_start=NOW + timedelta(hours=30))
    )
    homework_notices = notices.on_assignment_set(AssignmentFactory(course=ended))
    control = notices.on_session_booked(
        SessionFactory(course=going_on, scheduled_start=NOW + timedelta(hours=30))
    )
    _due([reminder, *homework_notices, control])
    # Ended around the services (nothing withdrawn): only the sender's own check is left.
    TreatmentCourse.objects.filter(pk=ended.pk).update(status=CourseStatus.DROPPED_OUT)

    assert sorted(deliver_due()) == ["cancelled", "cancelled", "cancelled", "sent"]
    assert [message["To"] for message in mail_server.messages] == [going_on.patient.email]
    for row in (reminder, *homework_notices):
        row.refresh_from_db()
        assert (row.status, row.last_error) == ("cancelled", "The course has ended.")
