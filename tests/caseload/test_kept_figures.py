"""The dashboard's kept figures (caseload.figures) stay what the records say: through every
service that changes a therapist's figures, through time alone (a note passing 48 hours, a
PHQ-9 turning 14 days old, a course reaching 14 days, a new week) and through a change made
while a row is being worked out. Each check compares the kept rows and totals with the
figures worked out afresh from the records (``figures_differences``)."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from caseload import figures as kept_figures
from caseload.figures import figures_differences, figures_rebuild, kept_dashboard
from caseload.models import TherapistFigures
from caseload.services import course_reassign
from ipt_clinic.accounts.services import staff_deactivate
from phases import services as phases_services
from sessions import services
from sessions.measures import measure_record
from sessions.models import SessionNote, SessionStatus
from sessions.risk import risk_flag_close
from tests.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory

WEDNESDAY_AFTERNOON = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
RISKY = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # item 9 above 0


def _kept(clinic, therapist) -> TherapistFigures:
    kept_dashboard(clinic_id=clinic.pk, tz=clinic.tz)
    return TherapistFigures.objects.get(clinic=clinic, therapist=therapist)


def _agrees(clinic) -> None:
    assert figures_differences(clinic_id=clinic.pk, tz=clinic.tz) == []


@pytest.fixture
def wednesday():
    with time_machine.travel(WEDNESDAY_AFTERNOON, tick=False) as traveller:
        yield traveller


def test_it_keeps_every_figure_through_the_services(
    wednesday, clinic, therapist, other_therapist, clinic_admin
):
    patient = PatientFactory(primary_therapist=therapist)
    course = phases_services.course_create(
        patient=patient, by=therapist, start_date=WEDNESDAY_AFTERNOON.date() - timedelta(days=20)
    )
    kept_dashboard(clinic_id=clinic.pk, tz=clinic.tz)
    alice = TherapistFigures.objects.get(clinic=clinic, therapist=therapist)
    assert (alice.active, alice.phase_initial, alice.no_session_14, alice.phq9_overdue) == (
        1,
        1,
        1,
        1,
    )
    _agrees(clinic)

    # Two sessions earlier this week, written around the services, then attended through them.
    past = [
        SessionFactory(
            course=course, scheduled_start=WEDNESDAY_AFTERNOON - timedelta(days=d, hours=3)
        )
        for d in (1, 2)
    ]
    for session in past:
        services.session_record_attendance(session=session, by=therapist, status="attended")
    services.session_book(
        course=course,
        start=WEDNESDAY_AFTERNOON + timedelta(days=1),
        duration_minutes=50,
        modality="video",
        by=therapist,
    )
    assert _kept(clinic, therapist).sessions_week == 3
    _agrees(clinic)

    note = services.note_start(session=past[1], by=therapist)
    assert _kept(clinic, therapist).unsigned_notes == 1  # its session was 2 days 3 h ago
    SessionNote.objects.filter(pk=note.pk).update(risk_level="none")
    services.note_sign(note=SessionNote.objects.get(pk=note.pk), by=therapist)
    assert _kept(clinic, therapist).unsigned_notes == 0
    _agrees(clinic)

    measure = measure_record(
        course=course, instrument="phq9", answers=RISKY, entered_by=therapist, session=past[0]
    )
    kept = _kept(clinic, therapist)
    assert (kept.risk_open, kept.phq9_overdue, kept.no_session_14) == (1, 0, 0)
    assert kept.risk_oldest_at == measure.created_at
    _agrees(clinic)
    risk_flag_close(
        measure=measure,
        by=therapist,
        action="contacted_patient",
        response="Called her: safe, plan agreed.",
    )
    assert _kept(clinic, therapist).risk_open == 0
    _agrees(clinic)

    phases_services.course_advance(course=course, by=therapist, override_reason="Ready early.")
    assert _kept(clinic, therapist).phase_social == 1
    _agrees(clinic)

    course_reassign(course=course, to_therapist=other_therapist, by=clinic_admin, reason="Leave")
    assert (_kept(clinic, therapist).active, _kept(clinic, other_therapist).active) == (0, 1)
    assert _kept(clinic, other_therapist).sessions_week == 1  # the booked one moved with it
    _agrees(clinic)

    phases_services.course_drop_out(course=course, by=other_therapist, reason="Moved away")
    assert _kept(clinic, other_therapist).active == 0
    assert _kept(clinic, other_therapist).sessions_week == 0  # the booked one cancelled
    _agrees(clinic)

    staff_deactivate(user=therapist, by=clinic_admin)
    assert _kept(clinic, therapist).deactivated
    _agrees(clinic)


def test_it_follows_time_alone(wednesday, clinic, therapist):
    course = CourseFactory(
        patient=PatientFactory(primary_therapist=therapist),
        start_date=WEDNESDAY_AFTERNOON.date() - timedelta(days=5),
    )
    session = SessionFactory(
        course=course,
        scheduled_start=WEDNESDAY_AFTERNOON - timedelta(hours=47),
        status=SessionStatus.ATTENDED,
    )
    services.note_start(session=session, by=therapist)
    measure_record(
        course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist, session=session
    )
    figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
    kept = _kept(clinic, therapist)
    assert (kept.unsigned_notes, kept.phq9_overdue, kept.sessions_week) == (0, 0, 1)

    # No service runs from here on: the clock alone moves the figures.
    wednesday.shift(timedelta(hours=1, minutes=1))  # the note's session 48 h 1 min ago
    assert _kept(clinic, therapist).unsigned_notes == 1
    wednesday.move_to(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))  # Monday, midnight in London
    kept = _kept(clinic, therapist)
    assert (kept.sessions_week, kept.phq9_overdue) == (0, 0)
    # The PHQ-9 (taken on the 25th at 14:00) turns 14 days old on 9 December at 14:00.
    wednesday.move_to(datetime(2026, 12, 9, 14, 0, tzinfo=UTC))
    assert _kept(clinic, therapist).phq9_overdue == 0
    wednesday.shift(timedelta(seconds=1))
    assert _kept(clinic, therapist).phq9_overdue == 1
    _agrees(clinic)


def test_it_counts_a_course_reaching_14_days_at_midnight_clinic_time(clinic, therapist):
    """A course never scored is PHQ-9 overdue from the midnight (clinic time) that begins its
    fourteenth day; New York is five hours behind UTC in November."""
    clinic.time_zone = "America/New_York"
    clinic.save()
    with time_machine.travel(datetime(2026, 11, 26, 4, 59, tzinfo=UTC), tick=False) as clock:
        CourseFactory(
            patient=PatientFactory(primary_therapist=therapist),
            start_date=datetime(2026, 11, 12).date(),  # noqa: DTZ001 - a calendar date
        )
        figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
        assert _kept(clinic, therapist).phq9_overdue == 0  # 23:59 on the 25th in New York
        clock.shift(timedelta(minutes=1))
        assert _kept(clinic, therapist).phq9_overdue == 1
        _agrees(clinic)


def test_it_works_out_only_the_rows_that_are_due(wednesday, clinic, therapist, other_therapist):
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    CourseFactory(patient=PatientFactory(primary_therapist=other_therapist))
    figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
    assert kept_figures.figures_refresh(clinic_id=clinic.pk, tz=clinic.tz) == 0

    session = SessionFactory(course=course, scheduled_start=WEDNESDAY_AFTERNOON - timedelta(days=8))
    services.session_record_attendance(session=session, by=therapist, status="no_show")
    assert kept_figures.figures_refresh(clinic_id=clinic.pk, tz=clinic.tz) == 1
    assert _kept(clinic, therapist).no_show_recent == 1
    _agrees(clinic)


def test_it_gives_a_new_therapist_a_row_and_drops_a_former_one_with_nothing(
    wednesday, clinic, therapist, admin_client_
):
    from ipt_clinic.accounts.models import Role

    newcomer = UserFactory(username="nina", first_name="Nina", clinic=clinic, role=Role.THERAPIST)
    body = admin_client_.get(reverse("caseload:dashboard")).content.decode()
    assert "Nina" in body
    newcomer.role = Role.CLINIC_ADMIN
    newcomer.save()
    body = admin_client_.get(reverse("caseload:dashboard")).content.decode()
    assert "Nina" not in body
    _agrees(clinic)


@pytest.mark.django_db(transaction=True)
def test_it_counts_a_change_made_while_the_row_is_worked_out(monkeypatch):
    """A questionnaire recorded while the dashboard works the therapist's row out: the
    service waits for the row (PostgreSQL's row lock, SQLite's write lock) and marks it again,
    so the next request counts the flag instead of keeping the row worked out without it."""
    from tests.factories import ClinicFactory

    clinic = ClinicFactory(slug="concurrent-figures")
    therapist = UserFactory(username="concurrent-figures", clinic=clinic)
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    kept_figures.figures_mark(clinic_id=clinic.pk, therapist_ids=[therapist.pk])
    working_out = threading.Event()
    real = kept_figures.dashboard_for_clinic

    def slow(*args, **kwargs):
        board = real(*args, **kwargs)
        working_out.set()
        time.sleep(1.0)  # the questionnaire is recorded meanwhile
        return board

    monkeypatch.setattr(kept_figures, "dashboard_for_clinic", slow)

    def refresh():
        try:
            kept_figures.figures_refresh(clinic_id=clinic.pk, tz=clinic.tz)
        finally:
            connection.close()

    def record():
        try:
            working_out.wait(10)
            measure_record(course=course, instrument="phq9", answers=RISKY, entered_by=therapist)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh), threading.Thread(target=record)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    monkeypatch.setattr(kept_figures, "dashboard_for_clinic", real)

    assert _kept(clinic, therapist).risk_open == 1
    _agrees(clinic)


def test_it_works_every_row_out_again_when_the_clinics_time_zone_changes(
    wednesday, clinic, therapist, clinic_admin
):
    """Monday 02:00 UTC is this week in London and last week (Sunday evening) in Los
    Angeles: the session moves out of "this week" with the new time zone."""
    from caseload.clinic_settings import clinic_settings_save

    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    SessionFactory(course=course, scheduled_start=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
    assert _kept(clinic, therapist).sessions_week == 1
    clinic_settings_save(
        clinic=clinic,
        by=clinic_admin,
        expected_version=clinic.version,
        time_zone="America/Los_Angeles",
    )
    clinic.refresh_from_db()
    assert _kept(clinic, therapist).sessions_week == 0
    _agrees(clinic)
