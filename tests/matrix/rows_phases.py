from phases.services import GOAL_FORM
from tests.form_keys import fresh_key
from tests.matrix import Row, version_of

COURSE = lambda w: {"course_id": w.course.pk}  # noqa: E731
AREA = lambda w: {"problem_area_id": w.problem_area.pk}  # noqa: E731
GOAL = lambda w: {"goal_id": w.goal.pk}  # noqa: E731

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
    "phases:goal_edit": [Row(kwargs=GOAL)],
    "phases:goal_remove": [Row(kwargs=GOAL, method="post")],
}
