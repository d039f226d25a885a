"""Every course of the demo (hand-written and generated) is a course the app could have made:
one active course per patient, phases entered in order, scores that are their answers' sum,
the course figures taken from its scores, and every row in its patient's clinic."""

from collections import Counter, defaultdict
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from patients.models import LifeEvent, Patient, Relationship
from phases.models import PHASE_ORDER, PhaseTransition, ProblemArea, TreatmentCourse
from sessions.models import (
    Assignment,
    AttendanceWeek,
    Measure,
    Notification,
    SessionNote,
    TherapySession,
)
from sessions.scoring import score
from sessions.selectors import week_start_for


@pytest.fixture
def demo(db):
    call_command("seed_demo", scale=1, stdout=StringIO())


def test_it_has_one_active_course_per_patient_at_most(demo):
    active = Counter(
        TreatmentCourse.objects.filter(status="active").values_list("patient_id", flat=True)
    )
    assert active and max(active.values()) == 1
    assert not Patient.objects.filter(status="active").exclude(courses__status="active").exists()


def test_it_moves_through_the_phases_in_order(demo):
    by_course = defaultdict(list)
    for transition in PhaseTransition.objects.order_by("at", "id"):
        by_course[transition.course_id].append(transition)
    courses = TreatmentCourse.objects.all()
    assert len(by_course) == courses.count()
    for course in courses:
        transitions = by_course[course.pk]
        assert transitions[0].kind == "started" and transitions[0].to_phase == "initial"
        forward = [t for t in transitions if t.kind == "forward"]
        for step, transition in enumerate(forward, start=1):
            assert PHASE_ORDER.index(transition.from_phase) == step - 1
            assert PHASE_ORDER.index(transition.to_phase) == step
        assert transitions[-1].to_phase == course.phase
        assert course.phase_started_at == transitions[-1].at
        if course.status == "dropped_out":
            assert transitions[-1].kind == "dropped_out"
        # Each session was held in the phase the course was in at the time.
        phases = [
            p
            for p in course.sessions.filter(status="attended")
            .order_by("scheduled_start")
            .values_list("phase", flat=True)
        ]
        assert [PHASE_ORDER.index(p) for p in phases] == sorted(
            PHASE_ORDER.index(p) for p in phases
        )


def test_it_stores_totals_that_are_the_sum_of_the_answers(demo):
    measures = list(Measure.objects.all())
    assert len(measures) > 1000
    for measure in measures:
        assert (measure.total, measure.severity) == score(measure.instrument, measure.answers)
        assert measure.risk_flag == (measure.instrument == "phq9" and measure.answers[8] > 0)


def test_it_keeps_the_course_figures_of_its_scores(demo):
    for course in TreatmentCourse.objects.prefetch_related("measures"):
        phq9 = sorted(
            (m for m in course.measures.all() if m.instrument == "phq9"), key=lambda m: m.taken_at
        )
        gad7 = sorted(
            (m for m in course.measures.all() if m.instrument == "gad7"), key=lambda m: m.taken_at
        )
        assert course.baseline_phq9 == (phq9[0].total if phq9 else None)
        assert course.latest_phq9 == (phq9[-1].total if phq9 else None)
        assert course.latest_phq9_at == (phq9[-1].taken_at if phq9 else None)
        assert course.baseline_gad7 == (gad7[0].total if gad7 else None)
        assert course.latest_gad7 == (gad7[-1].total if gad7 else None)
    # Scores trend down over a completed course.
    completed = TreatmentCourse.objects.filter(status="completed")
    assert completed.filter(latest_phq9__lt=F("baseline_phq9")).count() == completed.count()


def test_it_keeps_every_row_in_its_patients_clinic(demo):
    checks = [
        (Relationship, "patient__clinic_id"),
        (LifeEvent, "patient__clinic_id"),
        (TreatmentCourse, "patient__clinic_id"),
        (ProblemArea, "course__patient__clinic_id"),
        (TherapySession, "course__patient__clinic_id"),
        (SessionNote, "session__course__patient__clinic_id"),
        (Measure, "course__patient__clinic_id"),
        (Assignment, "course__patient__clinic_id"),
        (Notification, "patient__clinic_id"),
    ]
    for model, path in checks:
        assert not model.objects.exclude(clinic_id=F(path)).exists(), model.__name__
    assert not TreatmentCourse.objects.exclude(
        therapist_id=F("patient__primary_therapist_id")
    ).exists()


def test_it_covers_what_the_pages_and_journeys_show(demo):
    now = timezone.now()
    for slug in ("demo-northgate", "demo-southbank"):
        courses = TreatmentCourse.objects.filter(clinic__slug=slug)
        assert set(courses.values_list("phase", flat=True)) >= {
            "initial",
            "social",
            "problem_solving",
            "termination",
            "completed",
        }
        assert set(courses.values_list("status", flat=True)) == {
            "active",
            "completed",
            "dropped_out",
        }
    hand_written = Q(course__patient__record_number__regex=r"^[A-Z]{2}-\d{4}$")
    # Exactly one open risk flag among the hand-written patients.
    assert (
        Measure.objects.filter(hand_written, risk_flag=True, risk_responded_at__isnull=True).count()
        == 1
    )
    # One unsigned note older than two days among them.
    old_unsigned = SessionNote.objects.filter(
        signed_at__isnull=True, session__scheduled_start__lt=now - timedelta(days=2)
    ).filter(Q(session__course__patient__record_number__regex=r"^[A-Z]{2}-\d{4}$"))
    assert old_unsigned.count() == 1
    assert TherapySession.objects.filter(hand_written, status="no_show").exists()
    assert TherapySession.objects.filter(
        hand_written, status="scheduled", scheduled_start__gt=now
    ).exists()
    assert not TherapySession.objects.filter(status="scheduled", scheduled_start__lt=now).exists()
    assert not TherapySession.objects.filter(status="attended").filter(note__isnull=True).exists()
    statuses = set(Assignment.objects.filter(hand_written).values_list("status", flat=True))
    assert statuses >= {"done", "assigned", "not_done"}
    assert not Assignment.objects.filter(status="done", reflection="").exists()
    # Every course in termination (or finished) has its relapse-prevention plan.
    assert not TreatmentCourse.objects.filter(
        phase__in=["termination", "completed"], relapse_plan__isnull=True
    ).exists()
    # Inventories of 3-6 people.
    sizes = Patient.objects.annotate(n=Count("relationships")).values_list("n", flat=True)
    assert min(sizes) >= 3 and max(sizes) <= 6
    assert Notification.objects.filter(status="pending").exists()
    # Nothing is overdue in the outbox: the demo starts as a running system would be.
    assert not Notification.objects.filter(status="pending", due_at__lte=now).exists()
    assert Notification.objects.filter(status="failed").count() == 1


def test_it_leaves_the_audit_trail_the_stories_would_have_left(demo):
    from ipt_clinic.audit.models import AuditEvent

    portal_homework = AuditEvent.objects.filter(action="portal_action", actor_kind="patient")
    assert portal_homework.exists()
    done = {
        (a.pk, a.course.patient_id)
        for a in Assignment.objects.filter(status="done").select_related("course")
    }
    for event in portal_homework:
        assert event.object_type == "therapy.assignment"
        assert (event.object_id, event.patient_id) in done
    self_reports = AuditEvent.objects.filter(action="create", actor_kind="patient")
    by_patient = {
        (m.pk, m.course.patient_id)
        for m in Measure.objects.filter(entered_by_kind="patient").select_related("course")
    }
    assert by_patient and {(e.object_id, e.patient_id) for e in self_reports} == by_patient
    assert not Measure.objects.filter(entered_by_kind="patient", entered_by__isnull=False).exists()
    views = AuditEvent.objects.filter(action="view", object_type="patients.patient")
    assert not views.exclude(patient_id=F("object_id")).exists()


def test_the_course_attendance_figures_are_its_attended_sessions(demo):
    starts = defaultdict(list)
    for course_id, start in TherapySession.objects.filter(status="attended").values_list(
        "course_id", "scheduled_start"
    ):
        starts[course_id].append(start)
    courses = TreatmentCourse.objects.values_list(
        "pk", "sessions_attended", "last_attended_at", "previous_attended_at"
    )
    for pk, count, last, previous in courses:
        mine = sorted(starts[pk])
        assert (count, last, previous) == (
            len(mine),
            mine[-1] if mine else None,
            mine[-2] if len(mine) > 1 else None,
        ), pk


def test_the_attendance_weeks_are_the_sessions_of_each_week(demo):
    expected = Counter()
    sessions = TherapySession.objects.filter(status__in=["attended", "no_show"]).select_related(
        "clinic"
    )
    for session in sessions:
        monday = week_start_for(session.scheduled_start.astimezone(session.clinic.tz).date())
        expected[(session.clinic_id, session.therapist_id, monday, session.status)] += 1
    kept = Counter()
    for week in AttendanceWeek.objects.all():
        kept[(week.clinic_id, week.therapist_id, week.week_start, "attended")] += week.attended
        kept[(week.clinic_id, week.therapist_id, week.week_start, "no_show")] += week.no_show
    assert expected and +kept == expected
