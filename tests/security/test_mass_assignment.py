"""Fields a form does not have are ignored: every form of the app, sent by the person it lets
in with extra fields naming another clinic, other staff or other records (``clinic``,
``therapist``, ``patient``, ``id``...), saves what it saves without them. Nothing it makes or
changes moves to another clinic or points at those records, and they are left untouched."""

import pytest

from tests.conftest import ROLE_THERAPIST
from tests.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory
from tests.matrix import build_world
from tests.security.changes import changes, references, snapshot
from tests.security.helpers import allowed_client, rows_with, url_for

POSTS = rows_with("post")


def _decoys(world) -> dict[str, object]:
    """Records the extra fields name: another clinic's, and a same-clinic patient whom the
    person sending the form does not treat."""
    other_clinic = world.other_clinic_admin.clinic
    theirs = CourseFactory(
        patient=PatientFactory(
            primary_therapist=UserFactory(clinic=other_clinic, role=ROLE_THERAPIST)
        )
    )
    neighbour = CourseFactory(
        patient=PatientFactory(
            primary_therapist=UserFactory(username="erin", clinic=world.clinic, role=ROLE_THERAPIST)
        )
    )
    return {
        "clinic": other_clinic,
        "therapist": theirs.patient.primary_therapist,
        "admin": world.other_clinic_admin,
        "patient": theirs.patient,
        "course": theirs,
        "session": SessionFactory(course=theirs),
        "neighbour": neighbour.patient,
        "neighbour_course": neighbour,
    }


def _extra_fields(decoys: dict) -> dict[str, object]:
    staff, patient = decoys["therapist"].pk, decoys["patient"].pk
    return {
        "clinic": decoys["clinic"].pk,
        "clinic_id": decoys["clinic"].pk,
        "therapist": staff,
        "therapist_id": staff,
        "primary_therapist": staff,
        "primary_therapist_id": staff,
        "created_by": decoys["admin"].pk,
        "entered_by": decoys["admin"].pk,
        "actor": decoys["admin"].pk,
        "user": decoys["admin"].pk,
        "patient": patient,
        "patient_id": patient,
        "course": decoys["course"].pk,
        "course_id": decoys["course"].pk,
        "session": decoys["session"].pk,
        "session_id": decoys["session"].pk,
        "id": decoys["neighbour"].pk,
        "pk": decoys["neighbour_course"].pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "index", "row"), POSTS, ids=[f"{n}[{i}]" for n, i, _ in POSTS])
def test_it_ignores_fields_the_form_does_not_have(name, index, row):
    world = build_world()
    decoys = _decoys(world)
    client = allowed_client(world, row)
    url, data = url_for(world, name, row), row.data(world)
    tampered = {**_extra_fields(decoys), **data}  # the form's own fields as the page sends them
    decoy_records = {(d._meta.label_lower, d.pk) for d in decoys.values()}
    before = snapshot()

    response = client.post(url, tampered)

    assert response.status_code < 400, f"{name}: {response.status_code}"
    found = changes(before, snapshot())
    for label, row_now in found.written():
        if "clinic_id" in row_now:
            assert row_now["clinic_id"] == world.clinic.pk, f"{name} wrote {label} {row_now}"
        assert not references(label, row_now) & decoy_records, f"{name} wrote {label} {row_now}"
    touched = {(label, old["pk"]) for label, old, _new in found.changed}
    touched |= {(label, old["pk"]) for label, old in found.deleted}
    assert not touched & decoy_records, f"{name} touched {touched & decoy_records}"
