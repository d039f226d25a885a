from django.utils import timezone

from phases.models import Phase, ProblemArea, TreatmentCourse
from phases.services import GOAL_FORM
from tests.factories import ProblemAreaFactory, RelationshipFactory
from tests.form_keys import fresh_key
from tests.matrix import Row, version_of

COURSE = lambda w: {"course_id": w.course.pk}  # noqa: E731
AREA = lambda w: {"problem_area_id": w.problem_area.pk}  # noqa: E731
GOAL = lambda w: {"goal_id": w.goal.pk}  # noqa: E731


def _dispute(world) -> ProblemArea:
    """The world's course with a role dispute too (made once per world)."""
    area = ProblemArea.objects.filter(course=world.course, kind="role_dispute").first()
    return area or ProblemAreaFactory(
        course=world.course,
        kind="role_dispute",
        old_role="",
        new_role="",
        other_party=RelationshipFactory(patient=world.patient, kind="partner"),
        dispute_stage="impasse",
    )


DISPUTE = lambda w: {"problem_area_id": _dispute(w).pk}  # noqa: E731


def _ending(world) -> dict:
    """The world's course in its last phase, where the ending page is served."""
    TreatmentCourse.objects.filter(pk=world.course.pk).update(phase=Phase.TERMINATION)
    return COURSE(world)


ROWS = {
    "phases:course_create": [Row(kwargs=lambda w: {"patient_id": w.patient.pk})],
    "phases:course": [Row(kwargs=COURSE)],
    "phases:course_edit": [Row(kwargs=COURSE)],
    "phases:formulation": [
        Row(kwargs=COURSE),
        Row(
            kwargs=COURSE,
            method="post",
            data=lambda w: {
                "version": version_of(w.course),
                "formulation": "Depression began when she retired.",
            },
        ),
    ],
    "phases:formulation_for_patient": [
        Row(kwargs=COURSE),
        Row(
            kwargs=COURSE,
            method="post",
            data=lambda w: {
                "version": version_of(w.course),
                "patient_formulation": "Your low mood began when you retired.",
                "action": "share",
            },
        ),
    ],
    "phases:formulation_withdraw": [Row(kwargs=COURSE, method="post")],
    # Admin and owner each advance once (the world starts in problem solving; the goal is
    # unreviewed, so the override reason is what lets them through).
    "phases:advance": [
        Row(
            kwargs=COURSE,
            method="post",
            data=lambda w: {"override_reason": "Reviewed verbally; recorded next session."},
        ),
    ],
    "phases:move_back": [
        Row(
            kwargs=COURSE,
            method="post",
            data=lambda w: {"to_phase": "social", "reason": "Relapse after the funeral."},
        ),
    ],
    "phases:drop_out": [
        Row(kwargs=COURSE, method="post", data=lambda w: {"reason": "Moved abroad."}),
    ],
    "phases:relapse_plan": [Row(kwargs=COURSE)],
    "phases:problem_area_create": [Row(kwargs=COURSE)],
    "phases:problem_area_edit": [Row(kwargs=AREA)],
    "phases:problem_area_remove": [Row(kwargs=AREA, method="post")],
    "phases:goal_create": [
        Row(kwargs=AREA),
        Row(
            kwargs=AREA,
            method="post",
            data=lambda w: {
                "text": "Call a friend weekly",
                "status": "open",
                "progress": "2",
                "form_key": fresh_key(GOAL_FORM, w.problem_area),
            },
        ),
    ],
    "phases:dispute_stage": [
        Row(kwargs=DISPUTE),
        Row(
            kwargs=DISPUTE,
            method="post",
            data=lambda w: {
                "recorded_on": timezone.localdate().isoformat(),
                "stage": "renegotiation",
                "note": "They talked on Sunday.",
            },
        ),
    ],
    "phases:mid_course_review": [
        Row(kwargs=COURSE),
        Row(
            kwargs=COURSE,
            method="post",
            data=lambda w: {
                "goals_progress": "Half-way on both goals.",
                "focus": "kept",
                "focus_reason": "Still the work.",
                "plan": "Four more sessions on it, then the ending.",
            },
        ),
    ],
    "phases:ending": [Row(kwargs=_ending)],
    "phases:goal_edit": [Row(kwargs=GOAL)],
    "phases:goal_remove": [Row(kwargs=GOAL, method="post")],
}
