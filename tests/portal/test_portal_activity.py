"""The therapist's home lists homework and questionnaires from the portal since they looked."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent
from phases.formulation_sharing import formulation_answer_record, formulation_share
from sessions.measures import measure_form_binding, measure_record
from sessions.portal_activity import portal_activity_since
from tests.factories import AssignmentFactory, CourseFactory, PatientFactory
from tests.form_keys import fresh_key


def _answers(values):
    return {f"item_{n}": v for n, v in enumerate(values, start=1)}


def _shared(course, therapist):
    return formulation_share(
        course=course, by=therapist, text="How we understand it.", expected_version=None
    )


def _answered(share, answer="agree", comment=""):
    return formulation_answer_record(
        share=share, patient_id=share.course.patient_id, answer=answer, comment=comment
    )


def test_it_lists_the_patients_answer_to_the_shared_formulation(portal_client, course, therapist):
    answer = _answered(_shared(course, therapist), "talk", "The bit about Tom")
    [item] = portal_activity_since(therapist)
    assert (item.kind, item.formulation_answer, item.patient) == (
        "formulation",
        answer,
        course.patient,
    )
    html = render_to_string(
        "caseload/_home_extra_portal.html",
        {"portal_activity": [item]},
        request=RequestFactory().get("/"),
    )
    assert "would like to talk about the formulation you shared" in html
    assert "The bit about Tom" in html
    assert reverse("phases:course", args=[course.pk]) in html


def _closed_in_portal(portal_client, assignment, status="done", reflection="Went fine"):
    url = reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})
    portal_client.post(url, {"status": status, "reflection": reflection})


def test_it_lists_what_patients_did_in_the_portal(portal_client, course, therapist):
    assignment = AssignmentFactory(course=course, title="Ring Dad on Sunday")
    _closed_in_portal(portal_client, assignment, reflection="He listened")
    # Staff-entered scores and homework closed by staff are not portal activity.
    measure_record(course=course, instrument="gad7", answers=[0] * 7, entered_by=therapist)
    AssignmentFactory(course=course, status="done", completed_at=timezone.now())

    activity = portal_activity_since(therapist)
    assert [(item.kind, item.assignment) for item in activity] == [("homework", assignment)]

    request = RequestFactory().get("/")
    html = render_to_string(
        "caseload/_home_extra_portal.html", {"portal_activity": activity}, request=request
    )
    assert "Ring Dad on Sunday" in html and "He listened" in html and "Jamie Rivers" in html
    assert reverse("portal:activity_seen") in html


def test_it_shows_only_the_therapists_own_patients(portal_client, course, other_therapist):
    _closed_in_portal(portal_client, AssignmentFactory(course=course))
    assert portal_activity_since(other_therapist) == []


def test_it_forgets_activity_once_marked_seen(portal_client, course, therapist, therapist_client):
    _closed_in_portal(portal_client, AssignmentFactory(course=course))
    assert len(portal_activity_since(therapist)) == 1
    response = therapist_client.post(reverse("portal:activity_seen"))
    assert response.status_code == 302
    therapist.refresh_from_db()
    assert therapist.caseload_seen_at is not None
    assert portal_activity_since(therapist) == []

    # Something new after that shows again.
    portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {
            "form_key": fresh_key(
                measure_form_binding(
                    "phq9", patient_id=course.patient_id, clinic_id=course.clinic_id
                )
            ),
            **_answers([0] * 8 + [2]),
        },
    )
    therapist.refresh_from_db()
    [item] = portal_activity_since(therapist)
    assert item.kind == "self_report" and item.risk_flag


def test_it_shows_recent_activity_to_a_therapist_who_never_looked(therapist):
    other_patient = PatientFactory(primary_therapist=therapist)
    course = CourseFactory(patient=other_patient)
    old = measure_record(
        course=course, instrument="phq9", answers=[0] * 9, entered_by_kind="patient"
    )
    assert [item.measure for item in portal_activity_since(therapist)] == [old]
    assert portal_activity_since(therapist, since=timezone.now() + timedelta(seconds=1)) == []


def test_it_reads_the_activity_in_a_fixed_number_of_queries(
    portal_client, course, therapist, django_assert_num_queries
):
    share = _shared(course, therapist)
    for _ in range(3):
        _closed_in_portal(portal_client, AssignmentFactory(course=course))
    _answered(share)
    with django_assert_num_queries(3):
        few = portal_activity_since(therapist)
    for _ in range(5):
        _closed_in_portal(portal_client, AssignmentFactory(course=course))
        _answered(share)
    with django_assert_num_queries(3):
        many = portal_activity_since(therapist)
        [item.patient.full_name for item in many]
    assert (len(few), len(many)) == (4, 14)


def test_it_keeps_a_therapists_activity_however_busy_the_rest_of_the_clinic_is(
    portal_client, course, therapist, other_therapist
):
    assignment = AssignmentFactory(course=course, title="Write to Gran")
    _closed_in_portal(portal_client, assignment)
    # Later portal activity of another therapist's patients in the same clinic, lots of it.
    colleague_course = CourseFactory(patient=PatientFactory(primary_therapist=other_therapist))
    others = AssignmentFactory.create_batch(3, course=colleague_course)
    later = timezone.now() + timedelta(seconds=5)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=later,
            clinic_id=course.clinic_id,
            actor_kind="patient",
            action=AuditAction.PORTAL_ACTION,
            patient_id=colleague_course.patient_id,
            object_type="therapy.assignment",
            object_id=others[n % 3].pk,
            summary="Homework marked done",
        )
        for n in range(600)
    )
    assert [item.assignment for item in portal_activity_since(therapist)] == [assignment]
