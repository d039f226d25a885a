"""Starting a course: the contract, and one active course per patient."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from phases.models import CourseStatus, Phase, PhaseTransition, TreatmentCourse
from phases.services import ONE_ACTIVE_COURSE, course_create
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_it_starts_a_course_in_the_initial_phase(patient, therapist):
    course = course_create(patient=patient, by=therapist, start_date=date(2026, 2, 2))
    assert course.phase == Phase.INITIAL
    assert course.status == CourseStatus.ACTIVE
    assert course.planned_sessions == 16
    assert course.frequency == "weekly"
    assert course.clinic_id == patient.clinic_id
    assert course.therapist == therapist
    started = PhaseTransition.objects.get(course=course)
    assert (started.kind, started.to_phase) == ("started", Phase.INITIAL)
    assert AuditEvent.objects.filter(
        action="create", object_type="phases.treatmentcourse", object_id=course.pk
    ).exists()


def test_it_refuses_a_second_active_course_with_a_clear_message(patient, therapist):
    CourseFactory(patient=patient)
    with pytest.raises(ValidationError) as refused:
        course_create(patient=patient, by=therapist, start_date=date(2026, 2, 2))
    assert refused.value.messages == [ONE_ACTIVE_COURSE]
    assert TreatmentCourse.objects.filter(patient=patient).count() == 1


def test_it_allows_a_new_course_after_the_last_one_ended(patient, therapist):
    CourseFactory(patient=patient, status=CourseStatus.DROPPED_OUT)
    course_create(patient=patient, by=therapist, start_date=date(2026, 2, 2))
    assert TreatmentCourse.objects.filter(patient=patient, status="active").count() == 1


def test_the_database_refuses_two_active_courses(patient):
    CourseFactory(patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseFactory(patient=patient)


def test_it_refuses_planned_sessions_outside_8_to_20(patient, therapist):
    for planned in (7, 21):
        with pytest.raises(ValidationError) as refused:
            course_create(
                patient=patient, by=therapist, start_date=date(2026, 2, 2), planned_sessions=planned
            )
        assert "planned_sessions" in refused.value.message_dict
    assert not TreatmentCourse.objects.exists()


def test_it_shows_the_one_course_message_on_the_form_and_keeps_the_input(patient, therapist_client):
    CourseFactory(patient=patient)
    response = therapist_client.post(
        reverse("phases:course_create", args=[patient.pk]),
        {
            "start_date": "2026-03-01",
            "planned_sessions": "12",
            "frequency": "weekly",
            "session_minutes": "50",
            "target_diagnosis": "Major depressive disorder, single episode",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "already has an active IPT course" in body
    assert "Major depressive disorder, single episode" in body
    assert TreatmentCourse.objects.filter(patient=patient).count() == 1


def test_it_starts_a_course_through_the_form(patient, therapist_client):
    response = therapist_client.post(
        reverse("phases:course_create", args=[patient.pk]),
        {
            "start_date": "2026-03-01",
            "planned_sessions": "12",
            "frequency": "fortnightly",
            "session_minutes": "45",
            "contract_agreed_on": "2026-03-01",
        },
    )
    course = TreatmentCourse.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("phases:course", args=[course.pk])
    assert (course.planned_sessions, course.frequency, course.session_minutes) == (
        12,
        "fortnightly",
        45,
    )
    assert course.contract_agreed_on == date(2026, 3, 1)


def test_it_reports_a_planned_sessions_error_on_the_form(patient, therapist_client):
    response = therapist_client.post(
        reverse("phases:course_create", args=[patient.pk]),
        {
            "start_date": "2026-03-01",
            "planned_sessions": "30",
            "frequency": "weekly",
            "session_minutes": "50",
            "sick_role_note": "Excused from the family dinners",
        },
    )
    assert response.status_code == 200
    assert "Excused from the family dinners" in response.content.decode()
    assert not TreatmentCourse.objects.exists()


def test_a_new_course_brings_a_discharged_patient_back_to_active(patient, therapist):
    patient.status = "discharged"
    patient.save()
    course_create(patient=patient, by=therapist, start_date=date(2026, 2, 2))
    patient.refresh_from_db()
    assert patient.status == "active"
    event = AuditEvent.objects.get(action="update", object_type="patients.patient")
    assert event.changes == {"status": ["discharged", "active"]}


def test_an_archived_patient_cannot_start_a_course(patient, therapist):
    patient.status = "archived"
    patient.save()
    with pytest.raises(ValidationError):
        course_create(patient=patient, by=therapist, start_date=date(2026, 2, 2))
