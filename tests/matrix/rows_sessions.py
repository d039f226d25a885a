from datetime import timedelta

from django.utils import timezone

from sessions.measures import measure_form_binding
from sessions.services import ADDENDUM_FORM, ASSIGNMENT_FORM
from sessions.worksheets import WORKSHEET_FORM
from tests.form_keys import fresh_key
from tests.matrix import Row, version_of


def _tomorrow(w) -> str:
    return (timezone.localdate(timezone=w.clinic.tz) + timedelta(days=2)).isoformat()


def _slot(w) -> dict:
    return {"date": _tomorrow(w), "time": "07:15", "duration_minutes": 50, "modality": "video"}


def _series(w) -> dict:
    first = timezone.localdate(timezone=w.clinic.tz) + timedelta(days=2)
    return {
        "first_day": first.isoformat(),
        "weekday": first.weekday(),
        "time": "06:40",
        "interval": "weekly",
        "count": 2,
        "taper_last": 0,
        "duration_minutes": 50,
        "modality": "video",
    }


def _note_data(w) -> dict:
    # The whole form as the page sends it, the goal's review included: a form with a field
    # missing is refused (422 from the autosave).
    return {
        "version": w.note.version,
        "narrative": "Talked it through.",
        "risk_level": "none",
        f"goal_{w.goal.pk}_status": "open",
    }


def _worksheet(w):
    """A role play written in the world's past session, made once per world as a plain row
    (the service would write an audit event inside the request being checked)."""
    from sessions.models import Worksheet

    if "worksheet" not in w.extra:
        w.extra["worksheet"] = Worksheet.objects.create(
            clinic=w.clinic,
            course=w.course,
            session=w.past_session,
            kind="role_play",
            problem_area=w.problem_area,
            relationship=w.relationship,
            scene="Asking her sister for help with the move",
            follow_on="Ask her this week.",
            created_by=w.owner,
        )
    return w.extra["worksheet"]


def _worksheet_kwargs(w) -> dict:
    return {"worksheet_pk": _worksheet(w).pk}


def _worksheet_data(w) -> dict:
    return {
        "version": version_of(_worksheet(w)),
        "problem_area": w.problem_area.pk,
        "relationship": w.relationship.pk,
        "scene": "Asking her sister for help with the move",
        "how_it_went": "Better the second time.",
    }


ROWS = {
    "therapy:week": [Row(audience="staff"), Row(audience="staff", query="start=2026-01-05")],
    "therapy:course_sessions": [Row(kwargs=lambda w: {"course_id": w.course.pk})],
    "therapy:book": [
        Row(kwargs=lambda w: {"course_id": w.course.pk}),
        Row(kwargs=lambda w: {"course_id": w.course.pk}, method="post", data=_slot),
    ],
    "therapy:book_series": [
        Row(kwargs=lambda w: {"course_id": w.course.pk}),
        Row(kwargs=lambda w: {"course_id": w.course.pk}, method="post", data=_series),
    ],
    "therapy:course_end_confirm": [
        Row(kwargs=lambda w: {"course_id": w.course.pk, "ending": "complete"}),
        Row(kwargs=lambda w: {"course_id": w.course.pk, "ending": "drop-out"}),
    ],
    "therapy:patient_end_confirm": [
        Row(kwargs=lambda w: {"patient_id": w.patient.pk, "ending": "discharge"}),
        Row(kwargs=lambda w: {"patient_id": w.patient.pk, "ending": "archive"}),
    ],
    "therapy:session": [
        Row(kwargs=lambda w: {"pk": w.session.pk}),
        Row(kwargs=lambda w: {"pk": w.past_session.pk}),
    ],
    "therapy:reschedule": [
        Row(kwargs=lambda w: {"pk": w.session.pk}),
        Row(
            kwargs=lambda w: {"pk": w.session.pk},
            method="post",
            data=lambda w: {**_slot(w), "version": version_of(w.session)},
        ),
    ],
    "therapy:cancel": [
        Row(kwargs=lambda w: {"pk": w.session.pk}),
        Row(
            kwargs=lambda w: {"pk": w.session.pk},
            method="post",
            data=lambda w: {"by_whom": "patient", "reason": "Unwell"},
        ),
    ],
    "therapy:attendance": [
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk},
            method="post",
            data=lambda w: {"status": "no_show"},
        )
    ],
    # Notes are written and signed by the session's therapist only.
    "therapy:note_start": [
        Row(kwargs=lambda w: {"pk": w.session.pk}, method="post", admin_allowed=False)
    ],
    "therapy:note": [
        Row(kwargs=lambda w: {"pk": w.past_session.pk}, admin_allowed=False),
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk},
            method="post",
            data=_note_data,
            admin_allowed=False,
        ),
    ],
    "therapy:note_autosave": [
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk},
            method="post",
            data=_note_data,
            admin_allowed=False,
        )
    ],
    "therapy:note_sign": [
        Row(kwargs=lambda w: {"pk": w.past_session.pk}, admin_allowed=False),
        Row(kwargs=lambda w: {"pk": w.past_session.pk}, method="post", admin_allowed=False),
    ],
    "therapy:note_addendum": [
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk},
            method="post",
            data=lambda w: {
                "text": "Phoned the GP afterwards.",
                "form_key": fresh_key(ADDENDUM_FORM, w.note),
            },
        )
    ],
    "therapy:note_history": [Row(kwargs=lambda w: {"pk": w.past_session.pk})],
    "therapy:measure_new": [
        Row(kwargs=lambda w: {"pk": w.past_session.pk, "instrument": "phq9"}),
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk, "instrument": "gad7"},
            method="post",
            data=lambda w: {
                "form_key": fresh_key(measure_form_binding("gad7", session=w.past_session)),
                **{f"item_{n}": 1 for n in range(1, 8)},
            },
        ),
    ],
    "therapy:assignment_new": [
        Row(kwargs=lambda w: {"pk": w.past_session.pk}),
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk},
            method="post",
            data=lambda w: {
                "title": "Ask for help once",
                "instructions": "Ask your brother to help with the move.",
                "kind": "communication",
                "relationship": w.relationship.pk,
                "problem_area": w.problem_area.pk,
                "due_date": _tomorrow(w),
                "form_key": fresh_key(ASSIGNMENT_FORM, w.past_session),
            },
        ),
    ],
    # Worksheets are written by the one who writes the session's note; the clinic admin reads.
    "therapy:worksheet_new": [
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk, "kind": "communication-analysis"},
            admin_allowed=False,
        ),
        Row(
            kwargs=lambda w: {"pk": w.past_session.pk, "kind": "decision-analysis"},
            method="post",
            data=lambda w: {
                "form_key": fresh_key(WORKSHEET_FORM, w.past_session),
                "problem_area": w.problem_area.pk,
                "decision": "Whether to move in with her sister",
                "option_1": "Move in",
                "option_2": "Stay put",
            },
            admin_allowed=False,
        ),
    ],
    "therapy:worksheet": [Row(kwargs=_worksheet_kwargs)],
    "therapy:worksheet_edit": [
        Row(kwargs=_worksheet_kwargs, admin_allowed=False),
        Row(kwargs=_worksheet_kwargs, method="post", data=_worksheet_data, admin_allowed=False),
    ],
    "therapy:worksheet_remove": [Row(kwargs=_worksheet_kwargs, method="post", admin_allowed=False)],
    "therapy:worksheet_homework": [
        Row(kwargs=_worksheet_kwargs, method="post", admin_allowed=False)
    ],
    "therapy:risk_respond": [
        Row(
            kwargs=lambda w: {"measure_pk": w.measure.pk},
            method="post",
            data=lambda w: {
                "action": "safety_plan_reviewed",
                "response": "Safety plan reviewed; GP informed.",
            },
        )
    ],
    "therapy:risk_flag": [Row(kwargs=lambda w: {"measure_pk": w.measure.pk})],
    "therapy:risk_acknowledge": [
        Row(kwargs=lambda w: {"measure_pk": w.measure.pk}, method="post", data=lambda w: {})
    ],
}
