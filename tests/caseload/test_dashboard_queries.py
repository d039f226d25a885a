from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from caseload.dashboard_selectors import ACTIVE_PHASES
from caseload.figures import figures_differences, figures_rebuild
from ipt_clinic.accounts.models import Role
from patients.models import Patient
from phases.models import TreatmentCourse
from sessions.attendance import rebuild_attendance_weeks, refresh_attendance_figures
from sessions.models import Measure, SessionNote, SessionStatus, TherapySession
from tests.factories import UserFactory


def _bulk_caseload(clinic, therapists, start: int, stop: int) -> None:
    """Patients ``start``..``stop`` with a course, three sessions, a note and a risk flag."""
    now = timezone.now()
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            primary_therapist=therapists[n % len(therapists)],
            record_number=f"B{n:06d}",
            first_name=f"Bulk{n}",
            last_name="Patient",
        )
        for n in range(start, stop)
    )
    courses = TreatmentCourse.objects.bulk_create(
        TreatmentCourse(
            clinic=clinic,
            patient=patient,
            therapist=patient.primary_therapist,
            phase=ACTIVE_PHASES[n % 4],
            start_date=date.today() - timedelta(days=n % 60),  # noqa: DTZ011
            planned_sessions=8,
            latest_phq9_at=now - timedelta(days=n % 30) if n % 3 else None,
        )
        for n, patient in enumerate(patients)
    )
    sessions = TherapySession.objects.bulk_create(
        TherapySession(
            clinic=clinic,
            course=course,
            therapist=course.therapist,
            scheduled_start=now + timedelta(days=offset, hours=n % 24),
            status=SessionStatus.SCHEDULED
            if offset > 0
            else (SessionStatus.NO_SHOW if n % 7 == 0 else SessionStatus.ATTENDED),
        )
        for n, course in enumerate(courses)
        for offset in (-20, -3, 2)
    )
    refresh_attendance_figures(course.pk for course in courses)
    rebuild_attendance_weeks(clinic.pk, clinic.tz)
    SessionNote.objects.bulk_create(
        SessionNote(clinic=clinic, session=session, phase="problem_solving", narrative="x")
        for session in sessions
        if session.scheduled_start < now and session.status == SessionStatus.ATTENDED
    )
    Measure.objects.bulk_create(
        Measure(
            clinic=clinic,
            course=course,
            instrument="phq9",
            answers=[1] * 9,
            total=9,
            severity="mild",
            risk_flag=n % 5 == 0,
            taken_at=now - timedelta(days=2),
        )
        for n, course in enumerate(courses)
    )


def _dashboard_queries(client, **query) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("caseload:dashboard"), query)
    assert response.status_code == 200
    return len(queries), response, [q["sql"] for q in queries.captured_queries]


def test_it_runs_the_same_queries_at_10_and_at_2000_patients(clinic, admin_client):
    therapists = [
        UserFactory(username=f"t{n}", clinic=clinic, role=Role.THERAPIST) for n in range(4)
    ]
    _bulk_caseload(clinic, therapists, 0, 10)
    figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)  # written around the services
    small, response, _ = _dashboard_queries(admin_client)
    assert response.context["board"].totals.counts["active"] == 10

    more = [UserFactory(username=f"u{n}", clinic=clinic, role=Role.THERAPIST) for n in range(20)]
    _bulk_caseload(clinic, therapists + more, 10, 2000)
    figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
    large, response, _ = _dashboard_queries(admin_client)
    board = response.context["board"]
    assert board.totals.counts["active"] == 2000
    assert board.totals.counts["risk_open"] == 400
    # Two past sessions a course, did-not-attend for every seventh course of each batch.
    assert (board.totals.no_show_recent, board.totals.attended_recent) == (574, 3426)
    assert board.row_count == 24
    assert len(response.context["rows"]) == 24
    assert large == small


def test_it_reads_the_kept_figures_not_the_clinics_records(clinic, admin_client):
    """With no row due, a request reads the clinic's totals and one page of rows: nothing
    over its courses, sessions, notes or scores, whatever their number."""
    therapists = [
        UserFactory(username=f"t{n}", clinic=clinic, role=Role.THERAPIST) for n in range(30)
    ]
    _bulk_caseload(clinic, therapists, 0, 600)
    figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
    _, response, statements = _dashboard_queries(admin_client, sort="risk_open", dir="desc")
    read = " ".join(statements)
    for table in ("treatmentcourse", "therapysession", "sessionnote", "measure"):
        assert f"_{table}" not in read, table
    assert len(response.context["rows"]) == 25  # a page, not the clinic
    assert response.context["page"].paginator.num_pages == 2


def test_it_works_a_changed_therapists_row_out_in_the_same_queries_at_any_size(
    clinic, admin_client
):
    """A service's change marks the therapist's row; the next request works that row out
    again in a fixed number of queries, at 10 patients as at 2,000."""
    from sessions.measures import measure_record

    def one_change(start: int, stop: int, therapists) -> int:
        _bulk_caseload(clinic, therapists, start, stop)
        figures_rebuild(clinic_id=clinic.pk, tz=clinic.tz)
        course = TreatmentCourse.objects.filter(clinic=clinic, therapist=therapists[0]).first()
        measure_record(course=course, instrument="phq9", answers=[1] * 9, entered_by=therapists[0])
        count, _, _ = _dashboard_queries(admin_client)
        return count

    therapists = [
        UserFactory(username=f"t{n}", clinic=clinic, role=Role.THERAPIST) for n in range(4)
    ]
    small = one_change(0, 10, therapists)
    more = [UserFactory(username=f"u{n}", clinic=clinic, role=Role.THERAPIST) for n in range(20)]
    large = one_change(10, 2000, therapists + more)
    assert large == small
    assert figures_differences(clinic_id=clinic.pk, tz=clinic.tz) == []
