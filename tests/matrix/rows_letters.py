"""The discharge letter's URLs: the course's therapist writes and signs, the clinic admin
reads (the letter's page and its PDF), everyone else gets a 404."""

from tests.matrix import Row, version_of


def _ended_course(w):
    """A completed course of the world's patient, made once per world as a plain row."""
    from tests.factories import CourseFactory

    if "ended_course" not in w.extra:
        w.extra["ended_course"] = CourseFactory(
            patient=w.patient, status="completed", phase="termination", sessions_attended=12
        )
    return w.extra["ended_course"]


def _letter(w):
    """A draft letter of the ended course, as a plain row (the service would audit it inside
    the request being checked)."""
    from letters.models import DischargeLetter

    if "letter" not in w.extra:
        course = _ended_course(w)
        # The create row may have drafted one already (one draft per course).
        w.extra["letter"] = DischargeLetter.objects.filter(
            course=course, signed_at__isnull=True
        ).first() or DischargeLetter.objects.create(
            clinic=w.clinic,
            course=course,
            created_by=w.owner,
            recipient_name="Dr Priya Shah",
            course_summary="Twelve sessions held.",
        )
    return w.extra["letter"]


def _letter_form(w) -> dict:
    letter = _letter(w)
    return {
        "version": version_of(letter),
        "recipient_name": "Dr Priya Shah",
        "recipient_role": "gp",
        "recipient_address": "Riverside Surgery",
        "course_summary": "Twelve sessions held.",
        "problem_areas": "",
        "formulation": "",
        "outcome": "",
        "warning_signs": "",
        "recommendations": "",
    }


ROWS = {
    "letters:create": [
        Row(
            kwargs=lambda w: {"course_id": _ended_course(w).pk},
            method="post",
            admin_allowed=False,
        )
    ],
    "letters:detail": [Row(kwargs=lambda w: {"letter_id": _letter(w).pk})],
    "letters:pdf": [Row(kwargs=lambda w: {"letter_id": _letter(w).pk})],
    "letters:edit": [
        Row(kwargs=lambda w: {"letter_id": _letter(w).pk}, admin_allowed=False),
        Row(
            kwargs=lambda w: {"letter_id": _letter(w).pk},
            method="post",
            data=_letter_form,
            admin_allowed=False,
        ),
    ],
    "letters:sign": [
        Row(kwargs=lambda w: {"letter_id": _letter(w).pk}, admin_allowed=False),
        Row(
            kwargs=lambda w: {"letter_id": _letter(w).pk},
            method="post",
            data=lambda w: {"version": version_of(_letter(w))},
            admin_allowed=False,
        ),
    ],
}
