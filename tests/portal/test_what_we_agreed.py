"""The portal's "What we agreed" and "About this therapy" pages, the home's cards for them,
and the patient's answer reaching the therapist's home."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.portal_links import portal_link_create
from phases.formulation_sharing import (
    formulation_answer_record,
    formulation_share,
    formulation_withdraw,
)
from phases.models import FormulationAnswer, Phase
from tests.factories import (
    CourseFactory,
    GoalFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)
from tests.form_keys import key_on

from .links import open_portal

pytestmark = pytest.mark.django_db

WORDING = "Your low mood began when you retired and lost the daily company at work."
AGREED = reverse("portal:agreed")


def _share(course, therapist, text=WORDING):
    return formulation_share(course=course, by=therapist, text=text, expected_version=None)


def _page(client, url=AGREED) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_no_formulation_until_it_is_shared(portal_client, course, therapist):
    course.formulation = "CLINICAL-WORDING-1f3a"
    course.patient_formulation = "DRAFT-WORDING-77c2"
    course.save()
    page = _page(portal_client)
    assert "CLINICAL-WORDING-1f3a" not in page and "DRAFT-WORDING-77c2" not in page
    assert "will share it here when it is ready" in page
    assert 'name="answer"' not in page
    _share(course, therapist)
    page = _page(portal_client)
    assert WORDING in page and 'name="answer"' in page
    formulation_withdraw(course=course, by=therapist)
    assert WORDING not in _page(portal_client)


def test_the_patient_agrees_once_however_often_the_form_is_sent(portal_client, course, therapist):
    _share(course, therapist)
    key = key_on(_page(portal_client))
    data = {"form_key": key, "answer": "agree", "comment": "Yes, that is it."}
    first = portal_client.post(AGREED, data)
    assert first.status_code == 302
    again = portal_client.post(AGREED, data)
    assert again.status_code == 302
    answer = FormulationAnswer.objects.get()
    assert (answer.answer, answer.comment, answer.course) == ("agree", "Yes, that is it.", course)
    page = _page(portal_client)
    assert "You said you agree on" in page and "Yes, that is it." in page
    assert "Change your answer" in page


def test_a_missing_choice_keeps_the_comment(portal_client, course, therapist):
    _share(course, therapist)
    key = key_on(_page(portal_client))
    response = portal_client.post(AGREED, {"form_key": key, "comment": "I am not sure"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Please choose one of the two answers." in body
    assert "I am not sure" in body
    assert not FormulationAnswer.objects.exists()


def test_a_wording_changed_while_the_page_was_open_is_not_answered(
    portal_client, course, therapist
):
    _share(course, therapist)
    key = key_on(_page(portal_client))
    _share(course, therapist, "A new wording.")
    response = portal_client.post(
        AGREED, {"form_key": key, "answer": "agree", "comment": "My words"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Your answer was not sent" in body
    assert "My words" in body and "A new wording." in body
    assert not FormulationAnswer.objects.exists()


def test_a_changed_wording_asks_again(portal_client, course, therapist):
    share = _share(course, therapist)
    formulation_answer_record(share=share, patient_id=course.patient_id, answer="agree")
    assert "You said you agree" in _page(portal_client)
    _share(course, therapist, "A new wording.")
    page = _page(portal_client)
    assert "You said you agree" not in page and 'name="answer"' in page
    assert "New for you to read" in _page(portal_client, reverse("portal:home"))


def test_it_shows_the_problem_areas_goals_and_sessions_in_plain_words(
    portal_link, course, therapist
):
    now = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        portal_client = Client()
        assert open_portal(portal_client, portal_link[1]).status_code == 302
        course.planned_sessions = 12
        course.save()
        partner = RelationshipFactory(patient=course.patient, name="Tom", kind="partner")
        dispute = ProblemAreaFactory(
            course=course,
            kind="role_dispute",
            other_party=partner,
            notes="CLINICAL-NOTE-9e1",
            non_reciprocal_expectations="CLINICAL-NOTE-9e1",
        )
        GoalFactory(
            problem_area=dispute,
            text="Ask Tom for one evening a week",
            progress=6,
            last_reviewed_at=now - timedelta(days=2),
        )
        GoalFactory(problem_area=ProblemAreaFactory(course=course), text="Try the walking group")
        for days in (20, 13, 6):
            SessionFactory(
                course=course, status="attended", scheduled_start=now - timedelta(days=days)
            )
        SessionFactory(course=course, scheduled_start=datetime(2026, 12, 16, 14, 0, tzinfo=UTC))
        page = _page(portal_client)
    assert "Disagreements with Tom" in page
    assert "Getting used to a big change in your life" in page
    assert "Ask Tom for one evening a week" in page
    assert "progress 6 out of 10 when you last looked at it together (7 December)" in page
    assert "Try the walking group" in page and "Working on it" in page
    assert "3 of 12 sessions held" in page
    assert "Next appointment: Wednesday 16 December, 14:00" in page
    assert "CLINICAL-NOTE-9e1" not in page
    assert "role_dispute" not in page and "Role dispute" not in page


def test_the_page_costs_the_same_with_more_areas_and_goals(portal_client, course, therapist):
    _share(course, therapist)
    area = ProblemAreaFactory(course=course)
    GoalFactory(problem_area=area)
    SessionFactory(course=course)

    def count():
        with CaptureQueriesContext(connection) as queries:
            _page(portal_client)
        return len(queries)

    few = count()
    for _ in range(3):
        grief = ProblemAreaFactory(
            course=course,
            kind="grief",
            deceased=RelationshipFactory(
                patient=course.patient, deceased=True, died_on=timezone.localdate()
            ),
        )
        GoalFactory(problem_area=grief)
        GoalFactory(problem_area=grief)
    assert count() == few


def test_the_home_links_both_pages_in_the_same_queries(portal_client, course, therapist):
    def count():
        with CaptureQueriesContext(connection) as queries:
            page = _page(portal_client, reverse("portal:home"))
        return len(queries), page

    before, page = count()
    assert AGREED in page and reverse("portal:about_ipt") in page
    assert "New for you to read" not in page
    _share(course, therapist)
    after, page = count()
    assert "New for you to read" in page
    assert after == before


def test_another_patients_portal_shows_nothing_of_it_and_cannot_answer(
    portal_client, course, therapist
):
    share = _share(course, therapist)
    other_patient = PatientFactory(primary_therapist=therapist, first_name="Sam")
    CourseFactory(patient=other_patient)
    other = Client()
    assert (
        open_portal(other, portal_link_create(patient=other_patient, by=therapist)[1]).status_code
        == 302
    )
    page = _page(other)
    assert WORDING not in page and 'name="answer"' not in page
    # The first patient's form key, sent from the other patient's session, answers nothing.
    key = key_on(_page(portal_client))
    response = other.post(AGREED, {"form_key": key, "answer": "agree"})
    assert response.status_code == 302
    assert not FormulationAnswer.objects.exists()
    assert share.answers.count() == 0


@pytest.mark.parametrize(
    ("phase", "shown", "not_shown"),
    [
        (Phase.INITIAL, "Being unwell is not a failing", "Most sessions are here"),
        (Phase.SOCIAL, "Looking at the people in your life", "Being unwell is not a failing"),
        (Phase.PROBLEM_SOLVING, "Most sessions are here", "Being unwell is not a failing"),
        (Phase.TERMINATION, "a plan for staying well", "Being unwell is not a failing"),
    ],
)
def test_about_ipt_says_what_the_current_phase_is_for(
    portal_client, course, phase, shown, not_shown
):
    course.phase = phase
    course.sick_role_note = "CLINICAL-SICK-ROLE-4b"
    course.save()
    page = _page(portal_client, reverse("portal:about_ipt"))
    assert "Interpersonal psychotherapy (IPT) is a short talking therapy" in page
    assert "The four parts of IPT" in page
    assert shown in page and not_shown not in page
    assert page.count("you are here") == 1
    assert "CLINICAL-SICK-ROLE-4b" not in page


def test_the_therapists_home_shows_the_answer(portal_client, course, therapist, therapist_client):
    _share(course, therapist)
    key = key_on(_page(portal_client))
    portal_client.post(AGREED, {"form_key": key, "answer": "talk", "comment": "Not the work bit"})
    home = therapist_client.get(reverse("caseload:therapist_home")).content.decode()
    assert "would like to talk about the formulation you shared" in home
    assert "Not the work bit" in home


def test_the_therapists_home_costs_the_same_with_more_answers(course, therapist, therapist_client):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert therapist_client.get(reverse("caseload:therapist_home")).status_code == 200
        return len(queries)

    share = _share(course, therapist)
    formulation_answer_record(share=share, patient_id=course.patient_id, answer="agree")
    few = count()
    for i in range(4):
        patient = PatientFactory(primary_therapist=therapist)
        other = CourseFactory(patient=patient)
        share = _share(other, therapist, f"Wording {i}")
        formulation_answer_record(share=share, patient_id=patient.pk, answer="talk")
    assert count() == few
