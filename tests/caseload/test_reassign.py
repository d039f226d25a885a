from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caseload.services import course_reassign, patient_reassign
from ipt_clinic.accounts.models import Role
from ipt_clinic.audit.models import AuditAction, AuditEvent
from phases.models import CourseStatus
from sessions.models import SessionStatus
from tests.conftest import login
from tests.factories import PatientFactory, SessionFactory, UserFactory


def test_it_moves_the_course_patient_and_future_sessions(
    make, therapist, other_therapist, clinic_admin
):
    course = make(therapist, attended_days_ago=(7,), upcoming_days=(1, 8))
    cancelled = SessionFactory(
        course=course,
        scheduled_start=timezone.now() + timedelta(days=3),
        status=SessionStatus.CANCELLED_CLINIC,
    )
    course_reassign(course=course, to_therapist=other_therapist, by=clinic_admin, reason="Leave")
    course.refresh_from_db()
    course.patient.refresh_from_db()
    assert course.therapist == other_therapist
    assert course.patient.primary_therapist == other_therapist
    past, *future = course.sessions.exclude(pk=cancelled.pk).order_by("scheduled_start")
    assert past.therapist == therapist  # who ran it stays on record
    assert [s.therapist for s in future] == [other_therapist, other_therapist]
    cancelled.refresh_from_db()
    assert cancelled.therapist == therapist
    event = AuditEvent.objects.get(action=AuditAction.REASSIGN)
    assert event.patient_id == course.patient_id
    assert event.changes["therapist"] == [therapist.pk, other_therapist.pk]
    assert event.actor == clinic_admin


def test_it_hands_the_record_to_the_new_therapist_at_once(
    make, therapist, other_therapist, admin_client
):
    course = make(therapist)
    detail = reverse("patients:detail", kwargs={"patient_id": course.patient_id})
    old, new = login(Client(), therapist), login(Client(), other_therapist)
    assert old.get(detail).status_code == 200
    assert new.get(detail).status_code == 404

    response = admin_client.post(
        reverse("caseload:reassign"),
        {"course": course.pk, "to_therapist": other_therapist.pk, "reason": "Caseload balance"},
    )
    assert response.status_code == 302
    assert old.get(detail).status_code == 404
    assert new.get(detail).status_code == 200


@pytest.mark.parametrize("case", ["other_clinic", "admin", "same", "deactivated", "no_reason"])
def test_it_refuses_a_wrong_reassignment(
    case, make, clinic, therapist, clinic_admin, other_clinic_therapist
):
    course = make(therapist)
    to = {
        "other_clinic": other_clinic_therapist,
        "admin": clinic_admin,
        "same": therapist,
        "deactivated": UserFactory(
            username="gone",
            clinic=clinic,
            role=Role.THERAPIST,
            is_active=False,
            deactivated_at=timezone.now(),
        ),
        "no_reason": UserFactory(username="fresh", clinic=clinic, role=Role.THERAPIST),
    }[case]
    with pytest.raises(ValidationError):
        course_reassign(
            course=course,
            to_therapist=to,
            by=clinic_admin,
            reason="" if case == "no_reason" else "Because",
        )
    course.refresh_from_db()
    assert course.therapist == therapist


def test_it_refuses_an_ended_course(make, therapist, other_therapist, clinic_admin):
    course = make(therapist, status=CourseStatus.COMPLETED)
    with pytest.raises(ValidationError):
        course_reassign(course=course, to_therapist=other_therapist, by=clinic_admin, reason="x")


def test_it_refuses_another_clinics_admin(make, therapist, other_therapist, other_clinic_admin):
    course = make(therapist)
    with pytest.raises(ValidationError):
        course_reassign(
            course=course, to_therapist=other_therapist, by=other_clinic_admin, reason="x"
        )


def test_it_ignores_another_clinics_course_in_the_form(
    make, other_clinic_therapist, other_admin_client, clinic, therapist
):
    theirs = make(other_clinic_therapist)
    response = other_admin_client.post(
        reverse("caseload:reassign"),
        {"course": theirs.pk, "to_therapist": therapist.pk, "reason": "x"},
    )
    assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.therapist == other_clinic_therapist
    assert not AuditEvent.objects.filter(action=AuditAction.REASSIGN).exists()


def test_it_moves_a_patient_without_an_active_course(therapist, other_therapist, clinic_admin):
    patient = PatientFactory(primary_therapist=therapist)
    patient_reassign(patient=patient, to_therapist=other_therapist, by=clinic_admin, reason="x")
    patient.refresh_from_db()
    assert patient.primary_therapist == other_therapist
    assert AuditEvent.objects.filter(action=AuditAction.REASSIGN, patient_id=patient.pk).exists()


def test_it_is_not_found_for_a_therapist(make, therapist, other_therapist, therapist_client):
    course = make(therapist)
    response = therapist_client.post(
        reverse("caseload:reassign"),
        {"course": course.pk, "to_therapist": other_therapist.pk, "reason": "mine now"},
    )
    assert response.status_code == 404
    course.refresh_from_db()
    assert course.therapist == therapist
