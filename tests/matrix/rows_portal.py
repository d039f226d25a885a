from sessions import homework
from sessions.measures import measure_form_binding
from tests.form_keys import fresh_key
from tests.matrix import Row


def _entry_kwargs(w) -> dict:
    """The world's homework and an entry on it (written the first time a row asks)."""
    entry = w.extra.get("homework_entry")
    if entry is None:
        entry = w.extra["homework_entry"] = homework.homework_entry_add(
            assignment=w.assignment, values={"said": "Can we talk?", "feeling": 5}
        )
    return {"assignment_id": w.assignment.pk, "entry_id": entry.pk}


ROWS = {
    # The therapist's side: a patient's record (owner therapist and clinic admin).
    "portal:link_manage": [Row(kwargs=lambda w: {"patient_id": w.patient.pk})],
    "portal:link_create": [Row(kwargs=lambda w: {"patient_id": w.patient.pk}, method="post")],
    "portal:link_revoke": [
        Row(
            kwargs=lambda w: {"patient_id": w.patient.pk, "link_id": w.portal_link.pk},
            method="post",
        )
    ],
    "portal:activity_seen": [Row(audience="staff", method="post")],
    # The patient's side: a staff session carries no portal identity.
    # The link's landing page (GET) and its "Open my page" button (POST).
    "portal:exchange": [
        Row(kwargs=lambda w: {"token": w.portal_token}, audience="portal"),
        Row(kwargs=lambda w: {"token": w.portal_token}, method="post", audience="portal"),
    ],
    "portal:home": [Row(audience="portal")],
    "portal:sessions": [Row(audience="portal")],
    "portal:session_ics": [Row(kwargs=lambda w: {"session_id": w.session.pk}, audience="portal")],
    "portal:homework": [Row(audience="portal")],
    "portal:homework_detail": [
        Row(kwargs=lambda w: {"assignment_id": w.assignment.pk}, audience="portal"),
        Row(
            kwargs=lambda w: {"assignment_id": w.assignment.pk},
            method="post",
            data=lambda w: {"status": "done", "reflection": "went well"},
            audience="portal",
        ),
    ],
    "portal:homework_entry_new": [
        Row(
            kwargs=lambda w: {"assignment_id": w.assignment.pk},
            method="post",
            data=lambda w: {
                "form_key": fresh_key(homework.ENTRY_FORM, w.assignment),
                "said": "Can we talk?",
                "feeling": 5,
            },
            audience="portal",
        )
    ],
    "portal:homework_entry_change": [
        Row(kwargs=lambda w: _entry_kwargs(w), audience="portal"),
        Row(
            kwargs=lambda w: _entry_kwargs(w),
            method="post",
            data=lambda w: {"said": "Can we talk soon?", "feeling": 6, "version": 1},
            audience="portal",
        ),
    ],
    "portal:questionnaire": [
        Row(kwargs=lambda w: {"instrument": "phq9"}, audience="portal"),
        Row(
            kwargs=lambda w: {"instrument": "phq9"},
            method="post",
            data=lambda w: {
                "form_key": fresh_key(
                    measure_form_binding("phq9", patient_id=w.patient.pk, clinic_id=w.clinic.pk)
                ),
                **{f"item_{n}": 0 for n in range(1, 10)},
            },
            audience="portal",
        ),
    ],
    "portal:questionnaire_thanks": [
        Row(kwargs=lambda w: {"measure_id": w.measure.pk}, audience="portal")
    ],
    "portal:progress": [Row(audience="portal")],
    "portal:plan": [Row(audience="portal")],
    "portal:agreed": [
        Row(audience="portal"),
        Row(method="post", data=lambda w: {"answer": "agree"}, audience="portal"),
    ],
    "portal:about_ipt": [Row(audience="portal")],
    "portal:leave": [Row(method="post", audience="portal")],
    # "Lost your link?": public (no token, no staff login); the POST answers the same page
    # whether or not the address typed is on file.
    "portal:lost_link": [
        Row(audience="public"),
        Row(audience="public", method="post", data=lambda w: {"contact": w.patient.email}),
    ],
    "portal:lost_link_asked": [Row(audience="public")],
}
