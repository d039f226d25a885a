"""Every form of the app that changes a patient's record, sent by someone who may not (another
clinic's admin, another therapist of the same clinic), answers 404 and changes nothing: not
the record, not anything beside it. The access matrix checks the 404; this checks the
database behind it."""

import pytest
from django.test import Client

from tests.conftest import login
from tests.matrix import build_world
from tests.security.changes import changes, snapshot
from tests.security.helpers import rows_with, url_for
from tests.test_access_matrix import ROWS

RECORD_POSTS = [
    (name, index, row)
    for name, index, row in rows_with("post")
    if row.audience == "patient" or (row.audience == "admin" and row.names_staff)
]


def test_it_walks_every_post_to_a_record():
    assert len(RECORD_POSTS) >= 30


@pytest.mark.django_db
def test_it_sees_what_an_allowed_post_changes():
    world = build_world()
    [row] = [row for row in ROWS["patients:life_event_create"] if row.method == "post"]
    before = snapshot()
    response = login(Client(), world.owner).post(
        url_for(world, "patients:life_event_create", row), row.data(world)
    )
    assert response.status_code == 302
    found = changes(before, snapshot())
    assert sorted(label for label, _row in found.created) == [
        "patients.lifeevent",
        "submissions.formsubmission",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "index", "row"), RECORD_POSTS, ids=[f"{n}[{i}]" for n, i, _ in RECORD_POSTS]
)
def test_a_post_from_outside_changes_nothing(name, index, row):
    world = build_world()
    outsiders = [world.other_clinic_admin]
    if row.audience == "patient":
        outsiders.append(world.other_therapist)
    for outsider in outsiders:
        client = login(Client(), outsider)
        url, data = url_for(world, name, row), row.data(world)
        before = snapshot()
        response = client.post(url, data)
        assert response.status_code == 404, f"{name} as {outsider}: {response.status_code}"
        found = changes(before, snapshot())
        assert not found, f"{name} as {outsider} changed {found}"
