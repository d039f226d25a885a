"""A role dispute's stage recorded from the middle-phase note (issue 22, point 2): the note asks
for the stage of each dispute at this session, and saving it writes the dispute's history with
the session's id and date, in the note's own transaction, so the note and the course page's
history never disagree."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from phases.models import DisputeStageEntry, Phase
from phases.services import problem_area_create
from sessions import services
from tests.factories import CourseFactory, PatientFactory, RelationshipFactory, SessionFactory

pytestmark = pytest.mark.django_db

# A Wednesday, mid-morning in London: the session was at 9:00 UTC the same day.
NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dispute(therapist):
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist),
        phase=Phase.PROBLEM_SOLVING,
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


def _note(dispute, therapist, *, start=NOW - timedelta(hours=1)):
    status = "attended" if start < NOW else "scheduled"
    session = SessionFactory(course=dispute.course, scheduled_start=start, status=status)
    return session, services.note_start(session=session, by=therapist)


def _post(client, session, note, **fields):
    return client.post(
        reverse("therapy:note", args=[session.pk]),
        {"version": note.version, "risk_level": "none", **fields},
    )


def _history(dispute):
    return list(
        DisputeStageEntry.objects.filter(problem_area=dispute)
        .order_by("recorded_on", "at", "id")
        .values_list("recorded_on", "stage", "session_id", "note")
    )


def test_the_middle_phase_note_asks_for_each_disputes_stage(therapist_client, dispute, therapist):
    session, _note_ = _note(dispute, therapist)
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    assert "The dispute with Marcus: its stage at this session" in page
    assert f'name="dispute_{dispute.pk}_stage"' in page
    assert "Last recorded: Impasse." in page


def test_saving_the_note_records_the_stage_at_this_session(therapist_client, dispute, therapist):
    session, note = _note(dispute, therapist)
    response = _post(
        therapist_client,
        session,
        note,
        **{
            f"dispute_{dispute.pk}_stage": "renegotiation",
            f"dispute_{dispute.pk}_note": "They talked on Sunday without a row.",
        },
    )
    assert response.status_code == 302
    assert _history(dispute)[-1] == (
        date(2026, 3, 11),
        "renegotiation",
        session.pk,
        "They talked on Sunday without a row.",
    )
    dispute.refresh_from_db()
    assert dispute.dispute_stage == "renegotiation"
    revision = note.revisions.order_by("-version").first()
    assert revision.content["dispute_stages"] == [
        {
            "problem_area": dispute.pk,
            "stage": "renegotiation",
            "note": "They talked on Sunday without a row.",
        }
    ]
    entry = DisputeStageEntry.objects.get(session_id=session.pk)
    assert AuditEvent.objects.get(
        object_type="phases.disputestageentry", object_id=str(entry.pk)
    ).summary == ("Role dispute's stage recorded: Renegotiation")
    # The note page opens again with the stage recorded at this session chosen.
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    assert re.search(r'value="renegotiation"\s+id="id_dispute_\d+_stage_\d+" checked', page)


def test_saving_the_same_stage_again_adds_nothing_and_a_change_is_a_new_point(
    therapist_client, dispute, therapist
):
    session, note = _note(dispute, therapist)
    _post(therapist_client, session, note, **{f"dispute_{dispute.pk}_stage": "impasse"})
    note.refresh_from_db()
    _post(therapist_client, session, note, **{f"dispute_{dispute.pk}_stage": "impasse"})
    assert [row[1] for row in _history(dispute)] == ["impasse", "impasse"]
    note.refresh_from_db()
    _post(therapist_client, session, note, **{f"dispute_{dispute.pk}_stage": "renegotiation"})
    assert [row[1] for row in _history(dispute)] == ["impasse", "impasse", "renegotiation"]
    dispute.refresh_from_db()
    assert dispute.dispute_stage == "renegotiation"


def test_leaving_it_unrecorded_saves_the_note_and_records_nothing(
    therapist_client, dispute, therapist
):
    session, note = _note(dispute, therapist)
    assert _post(therapist_client, session, note).status_code == 302
    assert len(_history(dispute)) == 1  # the stage when the dispute was agreed


def test_a_stage_the_service_refuses_keeps_the_note_unsaved_and_the_text_typed(
    therapist_client, dispute, therapist
):
    # A note opened before its session: the stage is recorded at a session that took place.
    session, note = _note(dispute, therapist, start=NOW + timedelta(days=1))
    response = _post(
        therapist_client,
        session,
        note,
        interpersonal_events="Marcus agreed to Sunday evenings.",
        **{f"dispute_{dispute.pk}_stage": "renegotiation"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The stage is recorded for a session that has taken place." in page
    assert "Marcus agreed to Sunday evenings." in page
    note.refresh_from_db()
    assert note.version == 1
    assert len(_history(dispute)) == 1


def test_only_a_middle_phase_note_records_a_stage(therapist_client, dispute, therapist):
    course = dispute.course
    course.phase = Phase.SOCIAL
    course.save()
    session, note = _note(dispute, therapist)
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    assert f"dispute_{dispute.pk}_stage" not in page
    with pytest.raises(ValidationError):
        services.note_save(
            note=note,
            by=therapist,
            data={"risk_level": "none"},
            expected_version=1,
            dispute_stages=[
                services.DisputeStageInput(problem_area_id=dispute.pk, stage="impasse")
            ],
        )
    assert len(_history(dispute)) == 1


def test_a_dispute_of_another_course_is_refused(dispute, therapist):
    other_course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    other = problem_area_create(
        course=other_course,
        by=therapist,
        kind="role_dispute",
        other_party=RelationshipFactory(patient=other_course.patient, name="Lee"),
        dispute_stage="impasse",
    )
    _session, note = _note(dispute, therapist)
    with pytest.raises(ValidationError):
        services.note_save(
            note=note,
            by=therapist,
            data={"risk_level": "none"},
            expected_version=1,
            dispute_stages=[services.DisputeStageInput(problem_area_id=other.pk, stage="impasse")],
        )
    assert DisputeStageEntry.objects.filter(problem_area=other).count() == 1


def test_signing_warns_while_the_stage_is_unrecorded_and_the_session_page_shows_it(
    therapist_client, dispute, therapist
):
    session, note = _note(dispute, therapist)
    _post(therapist_client, session, note)
    confirm = therapist_client.get(reverse("therapy:note_sign", args=[session.pk]))
    assert "The stage of the dispute with Marcus is not recorded at this session" in (
        confirm.content.decode()
    )
    note.refresh_from_db()
    _post(therapist_client, session, note, **{f"dispute_{dispute.pk}_stage": "renegotiation"})
    confirm = therapist_client.get(reverse("therapy:note_sign", args=[session.pk])).content
    assert b"is not recorded at this session" not in confirm
    assert b"this note's record of the dispute with Marcus: its stage renegotiation" in confirm
    detail = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert "Renegotiation at this session" in detail
