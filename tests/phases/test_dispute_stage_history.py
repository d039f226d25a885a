"""A role dispute's stage recorded session by session and drawn on the course page (issue 22,
point 2): every change is a point of the history, the area's stage is the latest one, and a
late entry for an earlier session does not overwrite the present."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from phases.models import CourseStatus, DisputeStageEntry
from phases.services import dispute_stage_record, problem_area_create, problem_area_update
from tests.factories import CourseFactory, PatientFactory, RelationshipFactory

pytestmark = pytest.mark.django_db

# A Wednesday, mid-morning in London: no day or week edge near.
NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dispute(therapist):
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist),
        phase="problem_solving",
        start_date=date(2026, 1, 7),
    )
    marcus = RelationshipFactory(patient=course.patient, kind="partner", name="Marcus")
    with time_machine.travel(datetime(2026, 1, 28, 10, 0, tzinfo=UTC), tick=False):
        return problem_area_create(
            course=course,
            by=therapist,
            kind="role_dispute",
            other_party=marcus,
            dispute_stage="impasse",
        )


def _history(area):
    return list(
        DisputeStageEntry.objects.filter(problem_area=area).values_list("recorded_on", "stage")
    )


def test_it_starts_the_history_when_the_dispute_is_agreed(dispute):
    assert _history(dispute) == [(date(2026, 1, 28), "impasse")]


def test_it_records_the_stage_at_each_session_and_keeps_the_latest_as_now(dispute, therapist):
    dispute_stage_record(
        problem_area=dispute, by=therapist, stage="impasse", recorded_on=date(2026, 2, 4)
    )
    entry = dispute_stage_record(
        problem_area=dispute,
        by=therapist,
        stage="renegotiation",
        recorded_on=date(2026, 2, 25),
        note="First Sunday talk in months.",
        session_id=4321,
    )
    dispute.refresh_from_db()
    assert dispute.dispute_stage == "renegotiation"
    assert (entry.session_id, entry.note, entry.by) == (
        4321,
        "First Sunday talk in months.",
        therapist,
    )
    # Written late for a session before the last one: history grows, the present stays.
    dispute_stage_record(
        problem_area=dispute, by=therapist, stage="impasse", recorded_on=date(2026, 2, 11)
    )
    dispute.refresh_from_db()
    assert dispute.dispute_stage == "renegotiation"
    assert _history(dispute) == [
        (date(2026, 1, 28), "impasse"),
        (date(2026, 2, 4), "impasse"),
        (date(2026, 2, 11), "impasse"),
        (date(2026, 2, 25), "renegotiation"),
    ]
    event = AuditEvent.objects.filter(object_type="phases.disputestageentry").latest("id")
    assert event.changes["stage"] == [None, "impasse"]


def test_a_stage_changed_on_the_area_form_is_a_point_of_the_history(dispute, therapist):
    problem_area_update(
        problem_area=dispute,
        by=therapist,
        expected_version=dispute.version,
        dispute_stage="dissolution",
    )
    assert _history(dispute)[-1] == (date(2026, 3, 11), "dissolution")
    problem_area_update(
        problem_area=dispute, by=therapist, expected_version=None, notes="Notes only."
    )
    assert len(_history(dispute)) == 2


@pytest.mark.parametrize(
    ("recorded_on", "field"),
    [(date(2026, 3, 12), "recorded_on"), (date(2026, 1, 6), "recorded_on")],
    ids=["tomorrow", "before the course"],
)
def test_it_refuses_a_date_no_session_can_have(dispute, therapist, recorded_on, field):
    with pytest.raises(ValidationError) as refused:
        dispute_stage_record(
            problem_area=dispute, by=therapist, stage="renegotiation", recorded_on=recorded_on
        )
    assert field in refused.value.message_dict
    assert len(_history(dispute)) == 1


def test_it_refuses_another_kind_of_area_or_an_ended_course(dispute, therapist):
    transition = problem_area_create(
        course=dispute.course, by=therapist, kind="role_transition", old_role="a", new_role="b"
    )
    with pytest.raises(ValidationError):
        dispute_stage_record(
            problem_area=transition, by=therapist, stage="impasse", recorded_on=date(2026, 3, 4)
        )
    type(dispute.course).objects.filter(pk=dispute.course_id).update(
        status=CourseStatus.DROPPED_OUT
    )
    with pytest.raises(ValidationError):
        dispute_stage_record(
            problem_area=dispute, by=therapist, stage="impasse", recorded_on=date(2026, 3, 4)
        )


def test_it_draws_the_history_on_the_course_page(dispute, therapist, therapist_client):
    dispute_stage_record(
        problem_area=dispute, by=therapist, stage="impasse", recorded_on=date(2026, 2, 4)
    )
    response = therapist_client.post(
        reverse("phases:dispute_stage", args=[dispute.pk]),
        {"recorded_on": "2026-02-25", "stage": "renegotiation", "note": "They talked."},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#area-{dispute.pk}")
    page = therapist_client.get(reverse("phases:course", args=[dispute.course_id])).content.decode()
    # The picture says it in words, and the table holds the same history in order.
    assert 'role="img"' in page
    assert (
        "Stage recorded 3 times: impasse on 28 Jan 2026; impasse on 4 Feb 2026; "
        "renegotiation on 25 Feb 2026." in page
    )
    table = page[page.index('class="table table-sm small mb-2 stage-history-table"') :]
    rows = [table.index(day) for day in ("28 Jan 2026", "4 Feb 2026", "25 Feb 2026")]
    assert rows == sorted(rows)
    assert "They talked." in table
    assert "stage now: Renegotiation" in page


def test_the_stage_form_keeps_what_was_typed_when_refused(dispute, therapist_client):
    response = therapist_client.post(
        reverse("phases:dispute_stage", args=[dispute.pk]),
        {"recorded_on": "2026-03-20", "stage": "renegotiation", "note": "Next week's talk."},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "a session that has taken place" in body
    assert "Next week&#x27;s talk." in body
    assert len(_history(dispute)) == 1


def test_the_course_page_costs_the_same_however_long_the_history(
    dispute, therapist, therapist_client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("phases:course", args=[dispute.course_id])
    with CaptureQueriesContext(connection) as short:
        therapist_client.get(url)
    second = problem_area_create(
        course=dispute.course,
        by=therapist,
        kind="role_dispute",
        other_party=RelationshipFactory(patient=dispute.course.patient, name="Mum"),
        dispute_stage="impasse",
        is_primary=False,
    )
    for day in range(20):
        for area in (dispute, second):
            dispute_stage_record(
                problem_area=area,
                by=therapist,
                stage="renegotiation" if day % 2 else "impasse",
                recorded_on=date(2026, 2, 1) + timedelta(days=day),
            )
    with CaptureQueriesContext(connection) as long:
        body = therapist_client.get(url).content.decode()
    assert body.count("Stage recorded 21 times") == 2
    assert len(long) == len(short)
