"""A form's one-time key (ipt_clinic.submissions) is bound to its form, its clinic and the
record it adds to. Every create form of the app (the staff questionnaire, the portal's, the
inventory, the timeline, goals, homework, addenda, worksheets), sent with a key another clinic issued
and used for the same form, is refused with a clear message and nothing of the other clinic's
record; the answers come back on the form as typed, with a fresh key that saves them."""

import pytest
from django.db import transaction

import tests.form_keys
from ipt_clinic.submissions.services import FormBinding, submission_claim, submission_done
from sessions.models import SessionNote
from tests.conftest import ROLE_THERAPIST
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    SessionFactory,
    UserFactory,
)
from tests.form_keys import KEY_RE
from tests.matrix import build_world
from tests.security.helpers import allowed_client, rows_with, url_for

KEYED_POSTS = [
    (name, index, row)
    for name, index, row in rows_with("post")
    if "form_key" in row.data.__code__.co_names or "fresh_key" in row.data.__code__.co_names
]
REFUSALS = (
    "This form belongs to another record, another form or another clinic",  # staff forms
    "Your answers were not sent: this page was out of date or meant for another",  # portal
    "Your entry was not saved: this page was out of date.",  # the portal's homework entry
)


def test_it_walks_every_keyed_form():
    assert sorted(name for name, _i, _row in KEYED_POSTS) == [
        "patients:life_event_create",
        "patients:relationship_create",
        "phases:goal_create",
        "portal:homework_entry_new",
        "portal:questionnaire",
        "therapy:assignment_new",
        "therapy:measure_new",
        "therapy:note_addendum",
        "therapy:worksheet_new",
    ]


def _elsewhere(world) -> dict[str, int]:
    """A record of each kind a form adds to, in another clinic: ``{model label: pk}``."""
    other_clinic = world.other_clinic_admin.clinic
    therapist = UserFactory(clinic=other_clinic, role=ROLE_THERAPIST)
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    session = SessionFactory(course=course, scheduled_start=world.past_session.scheduled_start)
    note = SessionNote.objects.create(
        clinic=other_clinic, session=session, phase=course.phase, narrative="Elsewhere."
    )
    return {
        "patients.patient": course.patient.pk,
        "phases.problemarea": ProblemAreaFactory(course=course).pk,
        "therapy.therapysession": session.pk,
        "therapy.sessionnote": note.pk,
        "therapy.assignment": AssignmentFactory(course=course, session=session).pk,
        "clinic": other_clinic.pk,
        "record": course.patient,  # what the other clinic's sending made, for its claim
    }


def _key_used_elsewhere(binding: FormBinding, elsewhere: dict) -> str:
    """The key the same form got in the other clinic, for its record of the same kind, and
    used there."""
    label = binding.scope.split(":")[0]
    theirs = FormBinding(binding.purpose, elsewhere["clinic"], f"{label}:{elsewhere[label]}")
    key = tests.form_keys.form_key_issue(theirs)
    with transaction.atomic():
        claim = submission_claim(binding=theirs, key=key, content={"sent": "elsewhere"})
        submission_done(claim, elsewhere["record"])
    return key


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "index", "row"), KEYED_POSTS, ids=[f"{n}[{i}]" for n, i, _ in KEYED_POSTS]
)
def test_a_key_from_another_clinic_is_refused_and_nothing_typed_is_lost(
    name, index, row, monkeypatch
):
    world = build_world()
    bindings = []
    issue = tests.form_keys.form_key_issue
    monkeypatch.setattr(
        tests.form_keys,
        "form_key_issue",
        lambda binding: bindings.append(binding) or issue(binding),
    )
    data = row.data(world)
    monkeypatch.undo()
    [binding] = bindings
    client = allowed_client(world, row)
    url = url_for(world, name, row)
    typed = {field: value for field, value in data.items() if field != "form_key"}
    foreign = {**data, "form_key": _key_used_elsewhere(binding, _elsewhere(world))}

    refused = client.post(url, foreign)

    body = refused.content.decode()
    assert refused.status_code == 200, f"{name}: {refused.status_code}"
    assert any(message in body for message in REFUSALS), body
    assert "already sent and saved" not in body  # nothing of the other clinic's record
    form = refused.context["form"]
    assert {field: form.data.get(field) for field in typed} == {
        field: str(value) for field, value in typed.items()
    }
    fresh = KEY_RE.search(body).group(1)
    assert fresh != foreign["form_key"]
    again = client.post(url, {**typed, "form_key": fresh}, follow=True)
    assert again.status_code == 200
    assert not any(message in again.content.decode() for message in REFUSALS)
