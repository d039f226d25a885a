"""Moving all (or some) of a therapist's patients at once: a preview of every patient, their
future sessions and each clash with the new therapist's calendar; the admin confirms, the
patients with a clash are skipped, the others move with their schedule, one audit event
each."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from caseload.services import course_reassign
from ipt_clinic.audit.models import AuditAction, AuditEvent
from sessions.models import TherapySession
from tests.factories import PatientFactory, SessionFactory, UserFactory

# An ordinary Wednesday morning (Europe/London is on GMT).
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
URL = reverse("caseload:reassign")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def caseload(make, therapist, other_therapist):
    """Alice's three patients: Ann (two future sessions), Ben (one, at a time Bob already sees
    Sam) and Cat (no course yet). Bob is the therapist they move to."""
    ann = make(therapist, first_name="Ann", last_name="Able", attended_days_ago=(7,))
    SessionFactory(course=ann, scheduled_start=NOW + timedelta(days=1))
    SessionFactory(course=ann, scheduled_start=NOW + timedelta(days=8))
    ben = make(therapist, first_name="Ben", last_name="Baker")
    SessionFactory(course=ben, scheduled_start=NOW + timedelta(days=2, hours=5))
    cat = PatientFactory(primary_therapist=therapist, first_name="Cat", last_name="Cole")
    sams = make(other_therapist, first_name="Sam", last_name="Busy")
    SessionFactory(course=sams, scheduled_start=NOW + timedelta(days=2, hours=5, minutes=30))
    return {"ann": ann.patient, "ben": ben.patient, "cat": cat}


def _preview(client, therapist, to, **extra):
    return client.post(
        URL,
        {
            "step": "preview",
            "from": therapist.pk,
            "to_therapist": to.pk,
            "reason": "Alice is on leave",
            **extra,
        },
    )


def _confirm(client, therapist, to, patients, **extra):
    return client.post(
        URL,
        {
            "step": "confirm",
            "from": therapist.pk,
            "to_therapist": to.pk,
            "reason": "Alice is on leave",
            "notes_signer": "therapist",
            "patients": [p.pk for p in patients],
            **extra,
        },
    )


def test_it_previews_every_patient_with_their_sessions_and_clashes(
    admin_client, therapist, other_therapist, caseload
):
    response = _preview(admin_client, therapist, other_therapist)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 patients, 2 future sessions move; 1 clash" in page
    assert "Fri 27 Nov 2026 14:00 to 14:50: Bob Quinn already sees Sam Busy" in page
    assert page.count('name="patients"') == 2  # Ann and Cat ticked; Ben skipped
    assert f'name="patients" value="{caseload["ben"].pk}"' not in page
    assert "skipped" in page
    # Nothing has moved yet.
    assert not AuditEvent.objects.filter(action=AuditAction.REASSIGN).exists()
    assert not TherapySession.objects.filter(
        therapist=other_therapist, course__patient__first_name="Ann"
    ).exists()


def test_it_moves_the_ticked_patients_with_their_future_sessions(
    admin_client,
    therapist_client,
    other_admin_client,
    therapist,
    other_therapist,
    clinic_admin,
    caseload,
):
    # Nobody but an admin of the clinic gets anywhere: the same 404 as a missing page.
    for client in (therapist_client, other_admin_client):
        assert _preview(client, therapist, other_therapist).status_code == 404
        response = _confirm(client, therapist, other_therapist, [caseload["ann"]])
        assert response.status_code == 404
    response = _confirm(
        admin_client, therapist, other_therapist, [caseload["ann"], caseload["cat"]]
    )
    assert response.status_code == 302
    for name in ("ann", "cat"):
        caseload[name].refresh_from_db()
        assert caseload[name].primary_therapist == other_therapist
    caseload["ben"].refresh_from_db()
    assert caseload["ben"].primary_therapist == therapist
    ann_sessions = TherapySession.objects.filter(course__patient=caseload["ann"])
    assert [s.therapist for s in ann_sessions.filter(scheduled_start__gt=NOW)] == [
        other_therapist,
        other_therapist,
    ]
    assert ann_sessions.get(scheduled_start__lt=NOW).therapist == therapist  # ran it
    events = AuditEvent.objects.filter(action=AuditAction.REASSIGN).order_by("patient_id")
    assert [e.patient_id for e in events] == sorted([caseload["ann"].pk, caseload["cat"].pk])
    assert all(e.actor == clinic_admin for e in events)
    page = admin_client.get(response["Location"]).content.decode()
    assert "2 patients and 2 future sessions moved to Bob Quinn." in page


def test_it_moves_nobody_when_a_ticked_patient_now_clashes(
    admin_client, therapist, other_therapist, caseload
):
    response = _confirm(
        admin_client, therapist, other_therapist, [caseload["ann"], caseload["ben"]]
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The move was not made" in page
    assert "Ben Baker: Bob Quinn is already booked" in page
    caseload["ann"].refresh_from_db()
    assert caseload["ann"].primary_therapist == therapist
    assert not AuditEvent.objects.filter(action=AuditAction.REASSIGN).exists()


def test_it_moves_nobody_when_a_patient_moved_after_the_preview(
    admin_client, therapist, other_therapist, clinic_admin, clinic, caseload
):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Rye", clinic=clinic)
    ann_course = caseload["ann"].courses.get()
    course_reassign(course=ann_course, to_therapist=dana, by=clinic_admin, reason="Meanwhile")
    response = _confirm(
        admin_client, therapist, other_therapist, [caseload["ann"], caseload["cat"]]
    )
    assert response.status_code == 200
    assert "Ann Able: This patient is no longer with Alice Owen" in response.content.decode()
    caseload["cat"].refresh_from_db()
    assert caseload["cat"].primary_therapist == therapist
    assert AuditEvent.objects.filter(action=AuditAction.REASSIGN).count() == 1


def test_it_previews_one_patient_before_moving_them(
    admin_client, therapist, other_therapist, caseload
):
    response = _preview(admin_client, therapist, other_therapist, only=[caseload["ann"].pk])
    page = response.content.decode()
    assert "1 patient, 2 future sessions move" in page
    assert "Ben Baker" not in page
    caseload["ann"].refresh_from_db()
    assert caseload["ann"].primary_therapist == therapist
