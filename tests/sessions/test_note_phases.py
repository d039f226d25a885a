from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from phases.models import Phase
from sessions import services
from sessions.models import GoalReview
from tests.factories import GoalFactory, ProblemAreaFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _past_session(course):
    return SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))


def test_it_takes_the_phase_from_the_course_when_the_note_starts(course, therapist):
    course.phase = Phase.SOCIAL
    course.save()
    session = _past_session(course)
    note = services.note_start(session=session, by=therapist)
    session.refresh_from_db()
    assert note.phase == session.phase == Phase.SOCIAL
    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    assert services.note_start(session=session, by=therapist).phase == Phase.SOCIAL


@pytest.mark.parametrize(
    ("phase", "present", "absent"),
    [
        (
            Phase.INITIAL,
            # The sick role and contract are the course's fields (tests/sessions/test_note_contract.py).
            ["symptoms_reviewed", "course-sick_role_note", "course-planned_sessions"],
            ["inventory_work", "sick_role", "contract"],
        ),
        (
            Phase.SOCIAL,
            ["inventory_work", "formulation_discussed"],
            ["contract", "course-planned_sessions"],
        ),
        (
            Phase.PROBLEM_SOLVING,
            ["focus_problem_area", "interpersonal_events", "techniques", "goal_progress"],
            ["gains_reviewed"],
        ),
        (
            Phase.TERMINATION,
            ["gains_reviewed", "feelings_about_ending", "plan_progress"],
            ["techniques"],
        ),
    ],
)
def test_it_shows_the_fields_of_the_notes_phase(
    therapist_client, course, therapist, phase, present, absent
):
    course.phase = phase
    course.save()
    session = _past_session(course)
    services.note_start(session=session, by=therapist)
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    for name in present + ["risk_level"]:
        assert f'name="{name}"' in page
    for name in absent:
        assert f'name="{name}"' not in page


def test_it_ignores_fields_of_other_phases(course, therapist):
    session = _past_session(course)
    note = services.note_start(session=session, by=therapist)
    note = services.note_save(
        note=note,
        by=therapist,
        data={
            "contract": "16 weekly sessions",
            "gains_reviewed": "not this phase",
            "risk_level": "none",
        },
        expected_version=1,
    )
    assert (note.contract, note.gains_reviewed) == ("16 weekly sessions", "")


def test_it_records_techniques_focus_and_goal_progress(therapist_client, course, therapist):
    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    area = ProblemAreaFactory(course=course)
    goal = GoalFactory(problem_area=area)
    session = _past_session(course)
    note = services.note_start(session=session, by=therapist)
    response = therapist_client.post(
        reverse("therapy:note", args=[session.pk]),
        {
            "version": note.version,
            "focus_problem_area": area.pk,
            "techniques": ["role_play", "communication_analysis"],
            "interpersonal_events": "Argued with her manager.",
            "risk_level": "low",
            f"goal_{goal.pk}_progress": 6,
            f"goal_{goal.pk}_status": "partly",
        },
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.focus_problem_area == area
    assert note.techniques == ["communication_analysis", "role_play"]
    goal.refresh_from_db()
    assert (goal.progress, goal.status) == (6, "partly")
    assert goal.last_reviewed_at is not None
    review = GoalReview.objects.get()
    assert (review.session, review.progress, review.status) == (session, 6, "partly")


def test_it_refuses_a_focus_area_of_another_course(course, therapist):
    from django.core.exceptions import ValidationError

    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    foreign = ProblemAreaFactory()
    session = _past_session(course)
    note = services.note_start(session=session, by=therapist)
    with pytest.raises(ValidationError):
        services.note_save(
            note=note,
            by=therapist,
            data={"focus_problem_area": foreign.pk, "risk_level": "none"},
            expected_version=1,
        )
    note.refresh_from_db()
    assert note.version == 1 and note.focus_problem_area is None


def _problem_solving_note(course, therapist):
    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    session = _past_session(course)
    return session, services.note_start(session=session, by=therapist)


def test_a_later_save_updates_the_sessions_goal_review(course, therapist):
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course))
    _session, note = _problem_solving_note(course, therapist)
    for version, progress in ((1, 3), (2, 7)):
        note = services.note_save(
            note=note,
            by=therapist,
            data={"risk_level": "none"},
            expected_version=version,
            goal_reviews=[
                services.GoalReviewInput(goal_id=goal.pk, progress=progress, status="open")
            ],
        )
    review = GoalReview.objects.get()
    assert (review.progress, review.reviewed_by) == (7, therapist)
    goal.refresh_from_db()
    assert goal.progress == 7
    revision = note.revisions.order_by("-version").first()
    assert revision.content["goal_reviews"] == [{"goal": goal.pk, "progress": 7, "status": "open"}]


def test_it_refuses_a_focus_area_object_that_is_removed_or_of_another_course(course, therapist):
    from django.core.exceptions import ValidationError

    _session, note = _problem_solving_note(course, therapist)
    removed = ProblemAreaFactory(course=course, removed_at=timezone.now())
    for area in (ProblemAreaFactory(), removed):
        with pytest.raises(ValidationError):
            services.note_save(
                note=note,
                by=therapist,
                data={"focus_problem_area": area, "risk_level": "none"},
                expected_version=1,
            )
    live = ProblemAreaFactory(course=course)
    note = services.note_save(
        note=note,
        by=therapist,
        data={"focus_problem_area": live, "risk_level": "none"},
        expected_version=1,
    )
    note.refresh_from_db()
    assert note.focus_problem_area == live and note.version == 2


def test_the_note_form_shows_this_sessions_goal_review_else_the_goals_standing(
    therapist_client, course, therapist
):
    import re

    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    goal = GoalFactory(problem_area=ProblemAreaFactory(course=course))
    reviewed = _past_session(course)
    note = services.note_start(session=reviewed, by=therapist)
    saved = therapist_client.post(
        reverse("therapy:note", args=[reviewed.pk]),
        {
            "version": note.version,
            "risk_level": "low",
            f"goal_{goal.pk}_progress": 6,
            f"goal_{goal.pk}_status": "partly",
        },
    )
    assert saved.status_code == 302
    goal.refresh_from_db()
    goal.progress, goal.status = 2, "open"  # as a later review would leave it
    goal.save()
    later = _past_session(course)
    services.note_start(session=later, by=therapist)

    def shown(session):
        page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
        progress = re.search(rf'name="goal_{goal.pk}_progress"[^>]*value="(\d+)"', page)
        status = re.search(
            rf'<select name="goal_{goal.pk}_status".*?<option value="(\w+)" selected', page, re.S
        )
        return progress.group(1), status.group(1)

    assert shown(reviewed) == ("6", "partly")
    assert shown(later) == ("2", "open")
