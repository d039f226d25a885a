from patients.services import LIFE_EVENT_FORM, RELATIONSHIP_FORM
from tests.form_keys import fresh_key
from tests.matrix import Row, version_of

PATIENT = lambda w: {"patient_id": w.patient.pk}  # noqa: E731
PERSON = lambda w: {"relationship_id": w.relationship.pk}  # noqa: E731
EVENT = lambda w: {"life_event_id": w.life_event.pk}  # noqa: E731

ROWS = {
    "patients:list": [
        Row(audience="staff"),
        # The page after the row ("A", "A", id 0): a key the list's Next link carries.
        Row(audience="staff", query="after=WyJBIiwgIkEiLCAwXQ&page=2"),
    ],
    "patients:create": [Row(audience="staff")],
    "patients:detail": [Row(kwargs=PATIENT)],
    "patients:edit": [
        Row(kwargs=PATIENT),
        Row(
            kwargs=PATIENT,
            method="post",
            data=lambda w: {
                "version": version_of(w.patient),
                "record_number": w.patient.record_number,
                "first_name": "Jamie",
                "last_name": "Rivers",
                "email": "jamie@example.org",
                "preferred_channel": "email",
            },
        ),
    ],
    # The world's patient has an active course: both are refused with a message, not an error.
    "patients:discharge": [Row(kwargs=PATIENT, method="post")],
    "patients:archive": [Row(kwargs=PATIENT, method="post")],
    "patients:history": [Row(kwargs=PATIENT)],
    "patients:circle": [Row(kwargs=PATIENT)],
    "patients:relationship_create": [
        Row(kwargs=PATIENT),
        Row(
            kwargs=PATIENT,
            method="post",
            data=lambda w: {
                "name": "Morgan",
                "kind": "sibling",
                "ring": "1",
                "expectations_met": "unknown",
                "knows_about_depression": "unknown",
                "form_key": fresh_key(RELATIONSHIP_FORM, w.patient),
            },
        ),
    ],
    "patients:relationship_edit": [
        Row(kwargs=PERSON),
        Row(
            kwargs=PERSON,
            method="post",
            data=lambda w: {
                "version": version_of(w.relationship),
                "name": w.relationship.name,
                "kind": "friend",
                "ring": "3",
                "expectations_met": "partly",
                "knows_about_depression": "true",
            },
        ),
    ],
    "patients:relationship_remove": [Row(kwargs=PERSON, method="post")],
    "patients:life_event_create": [
        Row(kwargs=PATIENT),
        Row(
            kwargs=PATIENT,
            method="post",
            data=lambda w: {
                "occurred_on": "2026-01-10",
                "description": "Lost job",
                "mood_effect": "-2",
                "form_key": fresh_key(LIFE_EVENT_FORM, w.patient),
            },
        ),
    ],
    "patients:life_event_edit": [Row(kwargs=EVENT)],
    "patients:life_event_remove": [Row(kwargs=EVENT, method="post")],
}
