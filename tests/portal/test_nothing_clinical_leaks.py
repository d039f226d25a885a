"""The portal never shows notes, the formulation or staff-entered scores."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from phases.models import Phase, RelapsePreventionPlan
from sessions.models import Measure, NoteAddendum, SessionNote
from tests.factories import AssignmentFactory, SessionFactory

NOTE_TEXT = "NOTE-SECRET-7c1f9e"
FORMULATION_TEXT = "FORMULATION-SECRET-52ab0d"
RISK_TEXT = "RISK-SECRET-e01d44"
ADDENDUM_TEXT = "ADDENDUM-SECRET-93ad1c"


def test_it_never_shows_note_or_formulation_text_on_any_portal_page(
    portal_client, course, therapist
):
    course.formulation = FORMULATION_TEXT
    course.sick_role_note = FORMULATION_TEXT
    course.phase = Phase.TERMINATION
    course.save()
    past = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(days=2), status="attended"
    )
    note = SessionNote.objects.create(
        clinic=course.clinic,
        session=past,
        phase=Phase.TERMINATION,
        narrative=NOTE_TEXT,
        homework_review=NOTE_TEXT,
        formulation_discussed=FORMULATION_TEXT,
        risk_notes=RISK_TEXT,
    )
    NoteAddendum.objects.create(
        clinic=course.clinic, note=note, author=therapist, text=ADDENDUM_TEXT
    )
    upcoming = SessionFactory(course=course)
    assignment = AssignmentFactory(course=course, session=past)
    staff_measure = Measure.objects.create(
        clinic=course.clinic,
        course=course,
        instrument="phq9",
        answers=[3] * 9,
        total=27,
        severity="severe",
        risk_flag=True,
        risk_response=RISK_TEXT,
        entered_by=therapist,
        taken_at=timezone.now(),
    )
    RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Sleeping badly",
        coping_strategies="Walk with Sam",
        if_symptoms_return="Call the clinic",
    )
    pages = [
        reverse("portal:home"),
        reverse("portal:sessions"),
        reverse("portal:session_ics", kwargs={"session_id": upcoming.pk}),
        reverse("portal:homework"),
        reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk}),
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        reverse("portal:questionnaire", kwargs={"instrument": "gad7"}),
        reverse("portal:plan"),
    ]
    for url in pages:
        response = portal_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in (NOTE_TEXT, FORMULATION_TEXT, RISK_TEXT, ADDENDUM_TEXT):
            assert secret not in body, f"{secret} shown on {url}"
    assert "Sleeping badly" in portal_client.get(reverse("portal:plan")).content.decode()
    # A score the therapist entered is not the patient's to open.
    thanks = reverse("portal:questionnaire_thanks", kwargs={"measure_id": staff_measure.pk})
    assert portal_client.get(thanks).status_code == 404


def test_it_serves_no_staff_page_to_a_portal_session(portal_client, patient):
    for url in (
        reverse("home"),
        reverse("portal:link_manage", kwargs={"patient_id": patient.pk}),
    ):
        response = portal_client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]
