"""Pages listing named patients leave one audit event each, naming every patient they showed;
record requests the access helpers refuse leave a denial (who, which id, from where) while the
answer stays the plain 404 (issue 21, point 9)."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from patients.services import REFUSED
from sessions.models import SessionNote
from tests.conftest import login
from tests.factories import CourseFactory, PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

# A Wednesday morning, Europe/London on GMT: "today" and "this week" are fixed.
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _get(client, url, data=None, **extra):
    """GET ``url``; the audit events it wrote, and how many INSERTs into the audit table."""
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {}, REMOTE_ADDR="10.9.8.7", **extra)
    table = AuditEvent._meta.db_table
    inserts = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("INSERT") and table in q["sql"]
    ]
    events = list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))
    return response, events, len(inserts)


def _the_list_view(events, actor):
    assert len(events) == 1, [(e.action, e.summary) for e in events]
    event = events[0]
    assert (event.action, event.actor, event.clinic_id) == ("view", actor, actor.clinic_id)
    assert event.ip_address == "10.9.8.7"
    return event.changes["patients_shown"]


@pytest.fixture
def alices(therapist):
    """Alice's patients: two in a course with a session this week and one next week, one with
    no course yet."""
    ann = CourseFactory(patient=PatientFactory(primary_therapist=therapist, first_name="Ann"))
    ben = CourseFactory(patient=PatientFactory(primary_therapist=therapist, first_name="Ben"))
    SessionFactory(course=ann, scheduled_start=NOW + timedelta(hours=3))
    SessionFactory(course=ben, scheduled_start=NOW + timedelta(days=2))
    SessionFactory(course=ben, scheduled_start=NOW + timedelta(days=9))
    cat = PatientFactory(primary_therapist=therapist, first_name="Cat")
    return [ann.patient, ben.patient, cat]


@pytest.fixture
def bobs(other_therapist):
    zed = CourseFactory(patient=PatientFactory(primary_therapist=other_therapist, first_name="Zed"))
    SessionFactory(course=zed, scheduled_start=NOW + timedelta(days=1))
    return zed.patient


def _ids(patients):
    return sorted(patient.pk for patient in patients)


# --------------------------------------------------------------------------- list pages


def test_it_audits_the_patient_list_with_the_patients_on_its_page(
    therapist, therapist_client, alices, bobs
):
    response, events, inserts = _get(therapist_client, reverse("patients:list"))
    assert response.status_code == 200
    assert _the_list_view(events, therapist) == _ids(alices)
    assert inserts == 1


def test_it_audits_only_the_patients_of_the_page_shown(therapist, therapist_client):
    patients = [PatientFactory(primary_therapist=therapist) for _ in range(27)]
    first = therapist_client.get(reverse("patients:list")).content.decode()
    next_page = html.unescape(re.search(r'<a class="page-link" href="([^"]+)">Next</a>', first)[1])
    response, events, _ = _get(therapist_client, reverse("patients:list") + next_page)
    shown = [p for p in patients if f">{p.record_number}<" in response.content.decode()]
    assert len(shown) == 2
    assert _the_list_view(events, therapist) == _ids(shown)


def test_it_audits_a_search_that_finds_nobody_too(therapist, therapist_client, alices):
    _, events, _ = _get(therapist_client, reverse("patients:list"), {"q": "nobody-like-this"})
    assert _the_list_view(events, therapist) == []


def test_it_audits_the_week_with_the_patients_of_its_sessions(
    therapist, therapist_client, alices, bobs
):
    response, events, inserts = _get(therapist_client, reverse("therapy:week"))
    assert response.status_code == 200
    # Ben's session next week is on another page; Cat has none; Bob's Zed is not Alice's.
    assert _the_list_view(events, therapist) == _ids(alices[:2])
    assert inserts == 1


def test_it_audits_the_week_an_admin_opens_for_a_therapist(
    clinic_admin, admin_client_, other_therapist, bobs
):
    _, events, _ = _get(admin_client_, reverse("therapy:week"), {"therapist": other_therapist.pk})
    assert _the_list_view(events, clinic_admin) == [bobs.pk]
    assert other_therapist.display_name in events[0].summary


def test_it_audits_the_therapist_home_with_every_patient_it_names(
    therapist, therapist_client, alices, bobs
):
    handed = CourseFactory(patient=PatientFactory(primary_therapist=therapist, first_name="Dee"))
    past = SessionFactory(course=handed, status="attended", scheduled_start=NOW - timedelta(days=3))
    SessionNote.objects.create(clinic=handed.clinic, session=past, phase=handed.phase)
    response, events, inserts = _get(therapist_client, reverse("caseload:therapist_home"))
    assert response.status_code == 200
    assert _the_list_view(events, therapist) == _ids([*alices, handed.patient])
    assert inserts == 1


def test_it_audits_the_clinic_caseload_with_the_patients_of_its_page(
    clinic_admin, admin_client_, alices, bobs, other_clinic_admin
):
    elsewhere = CourseFactory(
        patient=PatientFactory(primary_therapist__clinic=other_clinic_admin.clinic)
    )
    response, events, inserts = _get(admin_client_, reverse("caseload:courses"))
    assert response.status_code == 200
    shown = _the_list_view(events, clinic_admin)
    assert shown == _ids([*alices[:2], bobs])
    assert elsewhere.patient_id not in shown
    assert inserts == 1


def test_it_audits_a_drilldown_with_the_patients_behind_the_figure(
    clinic_admin, admin_client_, alices, bobs
):
    ann = alices[0].courses.get()
    ann.phase = "termination"
    ann.save()
    _, events, _ = _get(
        admin_client_, reverse("caseload:drilldown"), {"metric": "phase_termination"}
    )
    assert _the_list_view(events, clinic_admin) == [ann.patient_id]
    assert events[0].summary.startswith("Termination")


def test_it_audits_the_reassign_list_of_a_therapist(
    clinic_admin, admin_client_, therapist, alices, bobs
):
    response, events, inserts = _get(
        admin_client_, reverse("caseload:reassign"), {"from": therapist.pk}
    )
    assert response.status_code == 200
    assert _the_list_view(events, clinic_admin) == _ids(alices)
    assert inserts == 1


def test_it_audits_the_reassign_preview_with_the_patients_it_lists(
    clinic_admin, admin_client_, therapist, other_therapist, alices
):
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = admin_client_.post(
        reverse("caseload:reassign"),
        {
            "step": "preview",
            "from": therapist.pk,
            "to_therapist": other_therapist.pk,
            "reason": "Alice is on leave",
            "only": [alices[0].pk, alices[2].pk],
        },
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 200
    events = list(AuditEvent.objects.exclude(pk__in=before))
    assert _the_list_view(events, clinic_admin) == _ids([alices[0], alices[2]])
    assert events[0].summary == "Reassignment preview viewed"


# --------------------------------------------------------------------------- refusals


def _refusals():
    return list(AuditEvent.objects.filter(action=REFUSED).order_by("pk"))


def test_another_therapists_patient_is_refused_and_the_refusal_audited(
    patient, other_therapist, client
):
    login(client, other_therapist)
    response, events, _ = _get(client, reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 404
    assert patient.full_name not in response.content.decode()
    assert len(events) == 1
    denial = events[0]
    assert (denial.action, denial.actor, denial.clinic_id) == (
        REFUSED,
        other_therapist,
        other_therapist.clinic_id,
    )
    assert (denial.object_type, denial.object_id) == ("patients.patient", patient.pk)
    assert denial.ip_address == "10.9.8.7"
    assert denial.changes["path"] == reverse("patients:detail", args=[patient.pk])
    # Not part of the patient's record: nothing of it was shown.
    assert denial.patient_id is None


def test_a_refusal_answers_as_a_missing_record_does(
    patient, other_therapist, therapist_client, client
):
    # The owner's look and an anonymous visitor's (sent to log in) are no refusals.
    assert therapist_client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert Client().get(reverse("patients:detail", args=[patient.pk])).status_code == 302
    login(client, other_therapist)
    forbidden = client.get(reverse("patients:detail", args=[patient.pk]))
    missing = client.get(reverse("patients:detail", args=[patient.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.templates[0].name == missing.templates[0].name
    assert [e.object_id for e in _refusals()] == [patient.pk, patient.pk + 1000]


def test_another_clinics_course_is_refused_and_audited_under_the_askers_clinic(
    course, other_clinic_admin, client
):
    login(client, other_clinic_admin)
    response, events, _ = _get(client, reverse("phases:course", args=[course.pk]))
    assert response.status_code == 404
    assert [(e.action, e.actor, e.clinic_id, e.object_type, e.object_id) for e in events] == [
        (
            REFUSED,
            other_clinic_admin,
            other_clinic_admin.clinic_id,
            "phases.treatmentcourse",
            course.pk,
        )
    ]


def test_a_refused_post_changes_nothing_and_is_audited(patient, other_therapist, client):
    login(client, other_therapist)
    response = client.post(
        reverse("patients:edit", args=[patient.pk]),
        {"first_name": "Changed", "last_name": "Name", "version": patient.version},
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.first_name == "Jamie"
    [denial] = _refusals()
    assert (denial.object_id, denial.changes["method"]) == (patient.pk, "POST")


def test_a_session_note_only_its_writer_opens_is_refused_to_the_admin(
    course, clinic_admin, admin_client_
):
    session = SessionFactory(
        course=course, status="attended", scheduled_start=NOW - timedelta(days=1)
    )
    response = admin_client_.get(reverse("therapy:note", args=[session.pk]))
    assert response.status_code == 404
    [denial] = _refusals()
    assert (denial.actor, denial.object_type, denial.object_id) == (
        clinic_admin,
        "therapy.therapysession",
        session.pk,
    )
