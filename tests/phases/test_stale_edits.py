"""Two people (or two tabs) editing the same part of a course: the contract, the formulation,
a problem area, a goal, the relapse-prevention plan. The second save is refused with both
versions shown and the typed text kept, never written over the first; a phase change or a
goal's review in a session refuses a form opened before it too."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from phases.models import Phase, RelapsePreventionPlan
from phases.services import course_advance, relapse_plan_save
from sessions import services as session_services
from tests.factories import GoalFactory, ProblemAreaFactory, SessionFactory
from tests.stale_edits import assert_refused, open_form

pytestmark = pytest.mark.django_db

PLAN = {
    "warning_signs": "Waking at 4am",
    "coping_strategies": "Walk daily",
    "if_symptoms_return": "Call the clinic",
}


def _contract(course, **changes) -> dict:
    return {
        "start_date": course.start_date.isoformat(),
        "planned_sessions": "16",
        "frequency": "weekly",
        "session_minutes": "50",
        **changes,
    }


def test_it_refuses_a_stale_save_of_the_contract(course, therapist_client, admin_client_):
    url = reverse("phases:course_edit", args=[course.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1
    first = admin_client_.post(url, _contract(course, version=1, planned_sessions="12"))
    assert first.status_code == 302
    stale = therapist_client.post(
        url, _contract(course, version=1, planned_sessions="20", target_diagnosis="MDD")
    )
    assert_refused(stale, theirs=["12"], yours=["20", "MDD"], version=2)
    course.refresh_from_db()
    assert (course.planned_sessions, course.target_diagnosis, course.version) == (12, "", 2)
    assert AuditEvent.objects.filter(action="update", object_id=course.pk).count() == 1


def test_it_refuses_a_stale_save_of_the_formulation(course, therapist_client, admin_client_):
    url = reverse("phases:formulation", args=[course.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1
    theirs = "Low mood since her role at work changed."
    mine = "Grief for her father, unspoken at home."
    assert admin_client_.post(url, {"version": 1, "formulation": theirs}).status_code == 302
    stale = therapist_client.post(url, {"version": 1, "formulation": mine})
    assert_refused(stale, theirs=[theirs], yours=[mine], version=2)
    course.refresh_from_db()
    assert course.formulation == theirs
    # Saved again from the refused page, it goes on top of theirs.
    again = therapist_client.post(url, {"version": 2, "formulation": mine})
    assert again.status_code == 302
    course.refresh_from_db()
    assert (course.formulation, course.version) == (mine, 3)


def test_it_refuses_a_formulation_opened_before_the_phase_changed(
    course, therapist, therapist_client
):
    url = reverse("phases:formulation", args=[course.pk])
    version = open_form(therapist_client, url)
    course_advance(course=course, by=therapist, override_reason="Baseline taken on paper.")
    stale = therapist_client.post(url, {"version": version, "formulation": "Role transition."})
    assert_refused(stale, theirs=[], yours=["Role transition."], version=2)
    course.refresh_from_db()
    assert (course.phase, course.formulation) == (Phase.SOCIAL, "")


def test_it_refuses_a_stale_save_of_a_problem_area(course, therapist_client, admin_client_):
    area = ProblemAreaFactory(course=course)
    url = reverse("phases:problem_area_edit", args=[area.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1

    def post(client, notes: str):
        return client.post(
            url,
            {
                "version": 1,
                "kind": "role_transition",
                "old_role": "Employed",
                "new_role": "Retired",
                "notes": notes,
            },
        )

    assert post(admin_client_, "Misses the team").status_code == 302
    stale = post(therapist_client, "Relieved, then empty")
    assert_refused(stale, theirs=["Misses the team"], yours=["Relieved, then empty"], version=2)
    area.refresh_from_db()
    assert (area.notes, area.version) == ("Misses the team", 2)


def test_it_refuses_a_stale_save_of_a_goal(course, therapist_client, admin_client_):
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course), text="Call a friend")
    url = reverse("phases:goal_edit", args=[goal.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1

    def post(client, text: str, status: str):
        return client.post(url, {"version": 1, "text": text, "status": status, "progress": "3"})

    assert post(admin_client_, "Call a friend every week", "partly").status_code == 302
    stale = post(therapist_client, "Join the walking group", "open")
    assert_refused(
        stale,
        theirs=["Call a friend every week", "Partly"],
        yours=["Join the walking group", "Working on it"],
        version=2,
        in_form=["Join the walking group"],
    )
    goal.refresh_from_db()
    assert (goal.text, goal.status) == ("Call a friend every week", "partly")


def test_it_refuses_a_goal_form_opened_before_a_session_reviewed_the_goal(
    course, therapist, therapist_client
):
    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course), text="Call a friend")
    url = reverse("phases:goal_edit", args=[goal.pk])
    version = open_form(therapist_client, url)
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    note = session_services.note_start(session=session, by=therapist)
    session_services.note_save(
        note=note,
        by=therapist,
        data={"risk_level": "none"},
        expected_version=1,
        goal_reviews=[
            session_services.GoalReviewInput(goal_id=goal.pk, progress=7, status="partly")
        ],
    )
    stale = therapist_client.post(
        url, {"version": version, "text": "Call a friend", "status": "open", "progress": "2"}
    )
    assert_refused(
        stale, theirs=["7", "Partly achieved"], yours=["2", "Working on it"], version=2, in_form=[]
    )
    goal.refresh_from_db()
    assert (goal.progress, goal.status) == (7, "partly")


def test_it_refuses_a_stale_save_of_the_relapse_plan(
    course, therapist, therapist_client, admin_client_
):
    relapse_plan_save(course=course, by=therapist, expected_version=None, **PLAN)
    url = reverse("phases:relapse_plan", args=[course.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 1
    theirs = {**PLAN, "version": 1, "warning_signs": "Cancelling plans with friends"}
    mine = {**PLAN, "version": 1, "warning_signs": "Staying in bed past noon"}
    assert admin_client_.post(url, theirs).status_code == 302
    stale = therapist_client.post(url, mine)
    assert_refused(
        stale,
        theirs=["Cancelling plans with friends"],
        yours=["Staying in bed past noon"],
        version=2,
    )
    plan = RelapsePreventionPlan.objects.get(course=course)
    assert (plan.warning_signs, plan.version) == ("Cancelling plans with friends", 2)


def test_it_refuses_a_second_first_writing_of_the_relapse_plan(
    course, therapist_client, admin_client_
):
    url = reverse("phases:relapse_plan", args=[course.pk])
    assert open_form(admin_client_, url) == open_form(therapist_client, url) == 0
    theirs = {**PLAN, "version": 0, "coping_strategies": "Swim on Saturdays"}
    mine = {**PLAN, "version": 0, "coping_strategies": "Ring my sister"}
    assert admin_client_.post(url, theirs).status_code == 302
    stale = therapist_client.post(url, mine)
    assert_refused(stale, theirs=["Swim on Saturdays"], yours=["Ring my sister"], version=1)
    plan = RelapsePreventionPlan.objects.get(course=course)
    assert plan.coping_strategies == "Swim on Saturdays"
