"""Deactivating a therapist comes after reassignment (issue 19, point 2): refused while they
still have active courses, pointing at the reassign page; once reassigned, nothing is left
booked with them and the moved course keeps its sessions and reminders."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from caseload.services import course_reassign
from notifications.models import Notification
from sessions import notices
from sessions.models import SessionStatus, TherapySession
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_it_deactivates_only_after_reassignment(
    admin_client, clinic_admin, therapist, other_therapist
):
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    for days in (1, 8, 15):
        notices.on_session_booked(
            SessionFactory(course=course, scheduled_start=NOW + timedelta(days=days, hours=1))
        )

    response = admin_client.post(reverse("caseload:staff_deactivate"), {"member": therapist.pk})
    therapist.refresh_from_db()
    assert therapist.is_active
    assert response["Location"] == f"{reverse('caseload:reassign')}?from={therapist.pk}"
    page = admin_client.get(response["Location"])
    assert "still has 1 active course(s): reassign them first" in page.content.decode()

    course_reassign(course=course, to_therapist=other_therapist, by=clinic_admin, reason="Leaving.")
    admin_client.post(reverse("caseload:staff_deactivate"), {"member": therapist.pk})
    therapist.refresh_from_db()
    assert not therapist.is_active
    assert not TherapySession.objects.filter(
        therapist=therapist, status=SessionStatus.SCHEDULED, scheduled_start__gt=NOW
    ).exists()
    # The course goes on with the new therapist: its sessions and reminders stay.
    ahead = TherapySession.objects.filter(course=course, status=SessionStatus.SCHEDULED)
    assert ahead.filter(therapist=other_therapist).count() == 3
    assert Notification.objects.filter(patient_id=course.patient_id, status="pending").count() == 3
