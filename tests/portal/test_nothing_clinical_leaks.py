"""The portal never shows notes, the clinical formulation, a wording not (or no longer)
shared, or staff-entered scores."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from phases.formulation_sharing import formulation_share, formulation_withdraw
from phases.models import Phase, RelapsePreventionPlan, TreatmentCourse
from sessions.models import Measure, NoteAddendum, SessionNote
from tests.factories import AssignmentFactory, GoalFactory, ProblemAreaFactory, SessionFactory

NOTE_TEXT = "NOTE-SECRET-7c1f9e"
FORMULATION_TEXT = "FORMULATION-SECRET-52ab0d"
RISK_TEXT = "RISK-SECRET-e01d44"
ADDENDUM_TEXT = "ADDENDUM-SECRET-93ad1c"
WITHDRAWN_TEXT = "WITHDRAWN-WORDING-5d07aa"
DRAFT_TEXT = "UNSHARED-DRAFT-c3e9b1"
SHARED_TEXT = "The wording we agreed to share."
SECRETS = (NOTE_TEXT, FORMULATION_TEXT, RISK_TEXT, ADDENDUM_TEXT, WITHDRAWN_TEXT, DRAFT_TEXT)


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
    # A wording shared then withdrawn, the one shared now, and a draft not shared yet.
    formulation_share(course=course, by=therapist, text=WITHDRAWN_TEXT, expected_version=None)
    formulation_withdraw(course=course, by=therapist)
    formulation_share(course=course, by=therapist, text=SHARED_TEXT, expected_version=None)
    TreatmentCourse.objects.filter(pk=course.pk).update(patient_formulation=DRAFT_TEXT)
    area = ProblemAreaFactory(
        course=course,
        notes=NOTE_TEXT,
        old_role=NOTE_TEXT,
        new_role=NOTE_TEXT,
        old_role_losses=NOTE_TEXT,
        new_role_skills=NOTE_TEXT,
    )
    GoalFactory(problem_area=area, text="Meet Sam for coffee")
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
        reverse("portal:agreed"),
        reverse("portal:about_ipt"),
    ]
    for url in pages:
        response = portal_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, f"{secret} shown on {url}"
        # The score the therapist entered (PHQ-9 27, severe) is not shown either.
        assert "severe" not in body.lower(), url
    assert "Sleeping badly" in portal_client.get(reverse("portal:plan")).content.decode()
    agreed = portal_client.get(reverse("portal:agreed")).content.decode()
    assert SHARED_TEXT in agreed and "Meet Sam for coffee" in agreed
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
