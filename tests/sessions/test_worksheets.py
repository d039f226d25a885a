"""Worksheets (sessions.worksheets): written in a session about a problem area and a person,
locked with the signed note, never deleted, and a role play's follow-on set as real homework
once."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.editing import StaleEditError
from ipt_clinic.submissions.services import AlreadySaved
from notifications.models import Notification
from phases.models import Phase
from sessions import services, worksheets
from sessions.models import Assignment, Worksheet
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

EXCHANGE = {
    "incident": "Marcus came home late without calling; she said he never thinks of her.",
    "patient_said": "You never think about anyone but yourself.",
    "patient_meant": "I was worried and felt forgotten.",
    "other_said": "Here we go again.",
    "how_heard": "She heard contempt; he heard an attack.",
    "patient_felt": "Hurt, then furious.",
    "alternatives": "Say she was worried; ask him to text when he is late.",
    "will_try": "Tell him how the waiting feels, before it turns into a row.",
}


def _scene(therapist):
    patient = PatientFactory(primary_therapist=therapist, first_name="Rachel")
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    area = ProblemAreaFactory(course=course, kind="role_dispute", old_role="", new_role="")
    marcus = RelationshipFactory(patient=patient, name="Marcus", kind="partner")
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )
    return session, area, marcus


@pytest.fixture
def scene(therapist):
    return _scene(therapist)


def _communication(session, area, person, by, **changes):
    return worksheets.worksheet_create(
        session=session,
        by=by,
        kind="communication_analysis",
        problem_area=area,
        relationship=person,
        **{**EXCHANGE, **changes},
    )


def test_it_writes_a_communication_analysis_about_an_area_and_a_person(scene, therapist):
    session, area, marcus = scene
    worksheet = _communication(session, area, marcus, therapist)
    stored = Worksheet.objects.get(pk=worksheet.pk)
    assert (stored.kind, stored.problem_area, stored.relationship) == (
        "communication_analysis",
        area,
        marcus,
    )
    assert stored.course_id == session.course_id and stored.clinic_id == session.clinic_id
    assert stored.patient_meant == "I was worried and felt forgotten."
    event = AuditEvent.objects.get(object_type="therapy.worksheet", object_id=str(worksheet.pk))
    assert event.action == "create" and event.patient_id == session.course.patient_id
    assert event.changes["incident"][1].startswith("Marcus came home late")


def test_it_refuses_an_area_of_another_course_and_a_person_of_another_patient(scene, therapist):
    session, _area, _marcus = scene
    elsewhere = ProblemAreaFactory(course=CourseFactory(patient=PatientFactory()))
    stranger = RelationshipFactory(patient=PatientFactory())
    with pytest.raises(ValidationError) as refused:
        _communication(session, elsewhere, stranger, therapist)
    assert set(refused.value.message_dict) == {"problem_area", "relationship"}
    assert not Worksheet.objects.exists()


def test_it_refuses_a_worksheet_without_a_problem_area_or_its_first_answer(scene, therapist):
    session, area, marcus = scene
    with pytest.raises(ValidationError) as refused:
        _communication(session, None, marcus, therapist, incident="  ")
    assert set(refused.value.message_dict) == {"problem_area", "incident"}


def test_a_worksheet_holds_only_its_own_kinds_fields(scene, therapist):
    session, area, marcus = scene
    with pytest.raises(TypeError):
        _communication(session, area, marcus, therapist, scene="Not a role play")
    worksheet = _communication(session, area, marcus, therapist)
    worksheet.scene = "Not a role play"
    with pytest.raises(ValidationError, match="does not hold: scene"):
        worksheet.full_clean()


def test_a_decision_analysis_keeps_each_option_with_its_pros_and_cons(scene, therapist):
    session, area, _marcus = scene
    options = [
        {"option": "Stay and ask for couples counselling", "pros": "The children", "cons": ""},
        {"option": "", "pros": "", "cons": ""},
        {"option": " Move out for a month ", "pros": "Space to think", "cons": "Costly"},
    ]
    worksheet = worksheets.worksheet_create(
        session=session,
        by=therapist,
        kind="decision_analysis",
        problem_area=area,
        decision="Whether to stay in the marriage",
        options=options,
        choice="Ask for counselling first",
        first_step="Book the first appointment this week",
    )
    assert Worksheet.objects.get(pk=worksheet.pk).options == [
        {"option": "Stay and ask for couples counselling", "pros": "The children", "cons": ""},
        {"option": "Move out for a month", "pros": "Space to think", "cons": "Costly"},
    ]


def test_a_decision_analysis_needs_two_named_options(scene, therapist):
    session, area, _marcus = scene
    for options in (
        [{"option": "Stay", "pros": "", "cons": ""}],
        [
            {"option": "Stay", "pros": "", "cons": ""},
            {"option": "", "pros": "Quiet", "cons": "Lonely"},
        ],
    ):
        with pytest.raises(ValidationError) as refused:
            worksheets.worksheet_create(
                session=session,
                by=therapist,
                kind="decision_analysis",
                problem_area=area,
                decision="Whether to stay",
                options=options,
            )
        assert "options" in refused.value.message_dict
    assert not Worksheet.objects.exists()


def test_the_options_are_checked_by_the_model_as_well(scene, therapist):
    session, area, _marcus = scene
    worksheet = Worksheet(
        clinic_id=session.clinic_id,
        course_id=session.course_id,
        session=session,
        kind="decision_analysis",
        problem_area=area,
        decision="Whether to stay",
        options=[{"option": "Stay"}],
        created_by=therapist,
    )
    with pytest.raises(ValidationError, match="pros and its cons"):
        worksheet.full_clean()


def test_it_refuses_a_stale_save_and_keeps_the_stored_version(scene, therapist):
    session, area, marcus = scene
    worksheet = _communication(session, area, marcus, therapist)
    opened_at = worksheet.version
    worksheets.worksheet_update(
        worksheet=worksheet,
        by=therapist,
        expected_version=opened_at,
        problem_area=area,
        relationship=marcus,
        **{**EXCHANGE, "will_try": "Text him first."},
    )
    with pytest.raises(StaleEditError) as stale:
        worksheets.worksheet_update(
            worksheet=worksheet,
            by=therapist,
            expected_version=opened_at,
            problem_area=area,
            relationship=None,
            **{**EXCHANGE, "will_try": "Say nothing."},
        )
    assert stale.value.current.will_try == "Text him first."
    stored = Worksheet.objects.get(pk=worksheet.pk)
    assert (stored.will_try, stored.relationship_id, stored.version) == (
        "Text him first.",
        marcus.pk,
        opened_at + 1,
    )


def test_signing_the_note_locks_the_sessions_worksheets(scene, therapist):
    session, area, marcus = scene
    worksheet = _communication(session, area, marcus, therapist)
    note = services.note_start(session=session, by=therapist)
    note = services.note_save(
        note=note, by=therapist, data={"risk_level": "none"}, expected_version=note.version
    )
    services.note_sign(note=note, by=therapist)
    with pytest.raises(ValidationError, match="signed and locked"):
        _communication(session, area, marcus, therapist)
    with pytest.raises(ValidationError, match="signed and locked"):
        worksheets.worksheet_update(
            worksheet=worksheet,
            by=therapist,
            expected_version=worksheet.version,
            problem_area=area,
            **EXCHANGE,
        )
    with pytest.raises(ValidationError, match="signed and locked"):
        worksheets.worksheet_remove(worksheet=worksheet, by=therapist)
    assert Worksheet.objects.filter(removed_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("status", "hours", "refusal"),
    [
        ("cancelled_patient", -1, "cancelled"),
        ("no_show", -1, "did not attend"),
        ("scheduled", 2, "not started yet"),
    ],
)
def test_it_refuses_a_session_that_was_not_held(scene, therapist, status, hours, refusal):
    session, area, marcus = scene
    other = SessionFactory(
        course=session.course,
        scheduled_start=timezone.now() + timedelta(hours=hours),
        status=status,
    )
    with pytest.raises(ValidationError, match=refusal):
        _communication(other, area, marcus, therapist)


def test_a_removed_worksheet_stays_in_the_record_but_leaves_every_list(scene, therapist):
    session, area, marcus = scene
    kept = _communication(session, area, marcus, therapist)
    removed = _communication(session, area, marcus, therapist, incident="Another row")
    worksheets.worksheet_remove(worksheet=removed, by=therapist)
    assert Worksheet.objects.get(pk=removed.pk).removed_at is not None
    assert [w.pk for w in worksheets.session_worksheets(session)] == [kept.pk]
    assert [r.summary for r in worksheets.course_worksheets_context(session.course)[
        "course_worksheet_rows"
    ]] == [kept.incident]  # fmt: skip
    assert AuditEvent.objects.filter(
        object_id=str(removed.pk), summary="Worksheet removed: communication analysis"
    ).exists()


def _role_play(session, area, person, by, **changes):
    return worksheets.worksheet_create(
        session=session,
        by=by,
        kind="role_play",
        problem_area=area,
        relationship=person,
        **{
            "scene": "Telling Marcus she needs a text when he is late",
            "roles": "Rachel as herself, the therapist as Marcus; then swapped",
            "rehearsed": "Saying 'I worry' instead of 'you never'",
            "how_it_went": "Stiff at first, easier the second time",
            "follow_on": "Say it to Marcus once this week, at a calm moment; note his reply.",
            **changes,
        },
    )


def test_a_role_plays_follow_on_becomes_homework_due_at_the_next_session(therapist):
    """Frozen on the Saturday evening before the clocks go forward (UK): the next session is
    on Monday at 00:30 clinic time, which is still Sunday in UTC. Due on the clinic's Monday."""
    with time_machine.travel("2026-03-28 20:00 +00:00", tick=False):
        session, area, marcus = _scene(therapist)
        following = SessionFactory(
            course=session.course, scheduled_start=datetime(2026, 3, 29, 23, 30, tzinfo=UTC)
        )
        worksheet = _role_play(session, area, marcus, therapist)
        assignment = worksheets.worksheet_set_homework(worksheet=worksheet, by=therapist)
    assert (assignment.session, assignment.kind, assignment.relationship) == (
        session,
        "role_play",
        marcus,
    )
    assert assignment.problem_area == area
    assert assignment.instructions == worksheet.follow_on
    assert assignment.title.startswith("Role-play practice: Telling Marcus")
    assert assignment.due_date == date(2026, 3, 30)  # Monday, clinic time
    assert following.scheduled_start.date() == date(2026, 3, 29)
    assert Worksheet.objects.get(pk=worksheet.pk).assignment == assignment
    # A real assignment: the patient's notice is in the outbox.
    assert Notification.objects.filter(about_type="assignment", about_id=assignment.pk).exists()


def test_the_follow_on_is_set_as_homework_once(scene, therapist):
    session, area, marcus = scene
    worksheet = _role_play(session, area, marcus, therapist)
    first = worksheets.worksheet_set_homework(worksheet=worksheet, by=therapist)
    with pytest.raises(AlreadySaved) as again:
        worksheets.worksheet_set_homework(worksheet=worksheet, by=therapist)
    assert again.value.record == first
    assert Assignment.objects.filter(course=session.course).count() == 1


def test_without_a_next_session_the_homework_is_due_a_week_after(scene, therapist):
    session, area, marcus = scene
    assignment = worksheets.worksheet_set_homework(
        worksheet=_role_play(session, area, marcus, therapist), by=therapist
    )
    assert assignment.due_date == timezone.localdate(
        session.scheduled_start + timedelta(days=7), session.clinic.tz
    )


def test_only_a_role_play_with_a_follow_on_sets_homework(scene, therapist):
    session, area, marcus = scene
    with pytest.raises(ValidationError, match="Only a role play"):
        worksheets.worksheet_set_homework(
            worksheet=_communication(session, area, marcus, therapist), by=therapist
        )
    with pytest.raises(ValidationError, match="follow-on homework"):
        worksheets.worksheet_set_homework(
            worksheet=_role_play(session, area, marcus, therapist, follow_on=""), by=therapist
        )
    assert not Assignment.objects.exists()


def test_the_earlier_sessions_worksheets_are_what_the_next_note_reads(scene, therapist):
    """The last session's worksheets first, then the older ones; none of the session's own."""
    first, area, marcus = scene
    oldest = _communication(first, area, marcus, therapist)
    second = SessionFactory(
        course=first.course, scheduled_start=first.scheduled_start + timedelta(minutes=20)
    )
    last = [
        _role_play(second, area, marcus, therapist),
        _communication(second, area, None, therapist, incident="At his mother's"),
    ]
    third = SessionFactory(
        course=first.course, scheduled_start=first.scheduled_start + timedelta(minutes=40)
    )
    _role_play(third, area, marcus, therapist)
    earlier = worksheets.earlier_worksheets(third)
    assert [w.pk for w in earlier.last] == [w.pk for w in last]
    assert [w.pk for w in earlier.older] == [oldest.pk]
    assert [row.label for row in earlier.last[0].rows][:2] == ["The scene", "Who played whom"]
    assert not worksheets.earlier_worksheets(first)
