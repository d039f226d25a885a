"""Every course of the demo (hand-written and generated) is a course the app could have made,
and one that makes clinical sense: one active course per patient, phases entered in order,
scores that are their answers' sum and were taken at the sessions, nobody grieving a living
person, no contract agreed on a day still to come, and every date in the order the course
lived it.

The demo is seeded once for the module (``--scale 1``: the stories, their clinic's other
patients and about 250 generated ones), at an awkward instant: Monday 00:30 in summer, when
the clinic's week has just begun and its date is a day ahead of UTC's. Each test reads it
inside its own transaction; the seed is rolled back at the end."""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from notifications.models import Notification
from patients.models import LifeEvent, Patient, Relationship, RelationshipRevision
from patients.selectors import circle_snapshots
from phases.models import (
    PHASE_ORDER,
    FormulationAnswer,
    PhaseTransition,
    ProblemArea,
    RelapsePreventionPlan,
    TreatmentCourse,
)
from sessions.models import (
    Assignment,
    AttendanceWeek,
    HomeworkEntry,
    Measure,
    SessionNote,
    TherapySession,
)
from sessions.scoring import score
from sessions.selectors import week_start_for

SEEDED_AT = datetime(2026, 6, 7, 23, 30, tzinfo=UTC)  # Monday 00:30 in London (BST)
NAMED = r"^[A-Z]{2}-\d{4}$"  # the demo's named patients: the stories and their clinics


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        time_machine.travel(SEEDED_AT, tick=False),
        transaction.atomic(),
    ):
        call_command("seed_demo", scale=1, stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    """The seeded demo, read at the moment it was seeded."""
    with time_machine.travel(SEEDED_AT, tick=False):
        yield


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
    hand_written = Q(course__patient__record_number__regex=NAMED)
    # Exactly one open risk flag among the named patients.
    assert (
        Measure.objects.filter(hand_written, risk_flag=True, risk_responded_at__isnull=True).count()
        == 1
    )
    # One unsigned note older than two days among them.
    old_unsigned = SessionNote.objects.filter(
        signed_at__isnull=True, session__scheduled_start__lt=now - timedelta(days=2)
    ).filter(Q(session__course__patient__record_number__regex=NAMED))
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
    portal = AuditEvent.objects.filter(action="portal_action", actor_kind="patient")
    done = {
        (a.pk, a.course.patient_id)
        for a in Assignment.objects.filter(status__in=["done", "not_done"]).select_related("course")
    }
    self_reported = {
        (m.pk, m.course.patient_id)
        for m in Measure.objects.filter(entered_by_kind="patient").select_related("course")
    }
    homework_events = portal.filter(object_type="therapy.assignment")
    assert homework_events.exists()
    for event in homework_events:
        assert (event.object_id, event.patient_id) in done
    assert {
        (e.object_id, e.patient_id) for e in portal.filter(object_type="therapy.measure")
    } <= self_reported
    answered = {
        (a.pk, a.course.patient_id) for a in FormulationAnswer.objects.select_related("course")
    }
    assert (
        answered
        and {
            (e.object_id, e.patient_id)
            for e in portal.filter(object_type="phases.formulationanswer")
        }
        == answered
    )
    entries = {
        (e.pk, e.assignment.course.patient_id)
        for e in HomeworkEntry.objects.select_related("assignment__course")
    }
    assert (
        entries
        and {
            (e.object_id, e.patient_id) for e in portal.filter(object_type="therapy.homeworkentry")
        }
        == entries
    )
    assert set(portal.values_list("object_type", flat=True)) <= {
        "therapy.assignment",
        "therapy.homeworkentry",
        "therapy.measure",
        "phases.formulationanswer",
    }
    self_reports = AuditEvent.objects.filter(action="create", actor_kind="patient")
    assert self_reported and {(e.object_id, e.patient_id) for e in self_reports} == self_reported
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


# --- clinical sense ----------------------------------------------------------------------


def test_it_grieves_only_the_dead_and_leans_only_on_the_living(demo):
    grief = ProblemArea.objects.filter(kind="grief").select_related("deceased", "course")
    assert grief.count() > 20
    for area in grief:
        person = area.deceased
        # The one who died is in the inventory, marked deceased: nobody grieves a living
        # partner (or a name that is nobody in the inventory).
        assert person is not None and person.deceased, area.pk
        assert person.patient_id == area.course.patient_id
        # Still who they were to the patient ("Mum, died 2025"), not a kind of their own.
        assert person.kind in ("parent", "partner", "sibling", "child", "family"), area.pk
        assert person.died_on is not None and person.died_on < area.course.start_date
    for patient_id in ProblemArea.objects.filter(kind="grief", deceased__isnull=False).values_list(
        "course__patient_id", flat=True
    ):
        late = Relationship.objects.filter(patient_id=patient_id, deceased=True)
        widowed = ("partner", "husband", "wife")
        if any(word in person.change_when for person in late for word in widowed):
            # Widowed: no living partner in the same inventory.
            assert not Relationship.objects.filter(
                patient_id=patient_id, kind="partner", deceased=False
            ).exists()
    dead = Relationship.objects.filter(deceased=True)
    assert dead.exists()
    # The dead are remembered, not met: no contact, no support, nothing they do now.
    assert not dead.exclude(contact_frequency="").exists()
    assert not dead.filter(is_support=True).exists()
    for phrase in ("makes me laugh", "hard to reach", "see them more often", "argue less"):
        assert not dead.filter(
            Q(satisfying__icontains=phrase)
            | Q(unsatisfying__icontains=phrase)
            | Q(wants_to_change__icontains=phrase)
        ).exists(), phrase
    assert not RelapsePreventionPlan.supports.through.objects.filter(
        relationship__deceased=True
    ).exists()
    assert not Assignment.objects.filter(relationship__deceased=True).exists()
    assert not ProblemArea.objects.filter(other_party__deceased=True).exists()
    assert not ProblemArea.objects.filter(kind="role_dispute", other_party__isnull=True).exists()


def test_it_agrees_the_contract_and_formulation_on_days_that_have_passed(demo):
    today = timezone.localdate()
    with_contract = TreatmentCourse.objects.filter(contract_agreed_on__isnull=False)
    assert with_contract.count() > 200
    for course in with_contract:
        # Agreed at a session that took place: on or after the first, never in the future.
        assert course.start_date <= course.contract_agreed_on <= today, course.pk
        attended_days = {
            timezone.localtime(start, course.clinic.tz).date()
            for start in course.sessions.filter(status="attended").values_list(
                "scheduled_start", flat=True
            )
        }
        assert course.contract_agreed_on in attended_days, course.pk
    # A course beyond its first phase has its contract (the initial phase's exit criterion).
    assert not (
        TreatmentCourse.objects.exclude(phase="initial")
        .filter(contract_agreed_on__isnull=True)
        .exists()
    )
    for course in TreatmentCourse.objects.filter(formulation_agreed_on__isnull=False):
        assert course.contract_agreed_on <= course.formulation_agreed_on <= today
        assert course.formulation.strip()
        assert course.transitions.filter(from_phase="social", kind="forward").exists()
    # ... and weighed medication and a referral elsewhere there (the letter and the course
    # page say so of a finished course).
    assert not (
        TreatmentCourse.objects.exclude(phase="initial")
        .filter(medication_considered=False)
        .exists()
    )
    assert not (
        TreatmentCourse.objects.exclude(phase="initial").filter(referral_considered=False).exists()
    )
    for course in TreatmentCourse.objects.exclude(formulation=""):
        # A formulation reads as a clinician writes it ("in the context of a role dispute.").
        assert "context of role" not in course.formulation, course.pk


def test_it_dates_the_timeline_before_it_was_recorded(demo):
    events = LifeEvent.objects.select_related("patient__clinic")
    for event in events:
        recorded = timezone.localtime(event.created_at, event.patient.clinic.tz).date()
        assert event.occurred_on <= recorded <= timezone.localdate(), event.pk
        assert event.created_at >= event.patient.created_at
    # Each problem area's turning point is on the timeline: the death, the new role.
    for area in ProblemArea.objects.filter(kind="grief").select_related("course"):
        assert LifeEvent.objects.filter(
            patient_id=area.course.patient_id,
            relationship=area.deceased,
            occurred_on=area.deceased.died_on,
        ).exists(), area.pk
    transitions = ProblemArea.objects.filter(kind="role_transition").select_related("course")
    assert transitions.exists()
    for area in transitions:
        assert area.transition_date is not None and area.transition_date < area.course.start_date
        assert LifeEvent.objects.filter(
            patient_id=area.course.patient_id, occurred_on=area.transition_date
        ).exists(), area.pk
        patient = area.course.patient
        age = (area.course.start_date - patient.date_of_birth).days // 365
        if area.new_role == "Retired":
            assert age >= 55, (patient.record_number, age)
        if "parent" in area.new_role.lower() or "baby" in area.new_role.lower():
            assert 18 <= age <= 45, (patient.record_number, age)


def test_it_takes_every_score_and_note_at_a_session_that_took_place(demo):
    now = timezone.now()
    staff = Measure.objects.filter(entered_by_kind="staff").select_related("session", "course")
    for measure in staff:
        session = measure.session
        assert session is not None and session.status == "attended", measure.pk
        assert session.course_id == measure.course_id
        end = session.scheduled_start + timedelta(minutes=session.duration_minutes)
        assert session.scheduled_start <= measure.taken_at <= end, measure.pk
    by_patient = Measure.objects.filter(entered_by_kind="patient").select_related("course")
    assert by_patient.exists()
    for measure in by_patient:
        # Filled in through the portal while the course ran, in the week before a session.
        course = measure.course
        assert measure.session_id is None and measure.taken_at <= now
        assert course.ended_at is None or measure.taken_at <= course.ended_at
        assert course.sessions.filter(
            status__in=["attended", "scheduled"],
            scheduled_start__gt=measure.taken_at,
            scheduled_start__lte=measure.taken_at + timedelta(days=7),
        ).exists(), measure.pk
    assert not Measure.objects.filter(session__status__in=["no_show", "scheduled"]).exists()
    notes = SessionNote.objects.select_related("session")
    for note in notes:
        start = note.session.scheduled_start
        assert note.session.status == "attended"
        assert start <= note.created_at <= start + timedelta(hours=2), note.pk
        assert note.signed_at is None or note.created_at <= note.signed_at <= now


def test_it_dates_each_course_in_the_order_it_was_lived(demo):
    now = timezone.now()
    courses = TreatmentCourse.objects.select_related("patient", "clinic")
    for course in courses:
        patient = course.patient
        transitions = list(course.transitions.order_by("at", "pk").values_list("at", flat=True))
        assert patient.created_at <= course.created_at <= transitions[0], course.pk
        assert transitions == sorted(transitions) and transitions[-1] <= now
        assert course.ended_at is None or course.ended_at == transitions[-1]
        sessions = course.sessions.values_list("created_at", "scheduled_start")
        for booked, start in sessions:
            # Booked after the course was opened, before the session took place.
            assert course.created_at <= booked <= min(start, now), course.pk
        revisions = RelationshipRevision.objects.filter(patient=patient).values_list(
            "recorded_at", flat=True
        )
        assert all(patient.created_at <= at <= now for at in revisions)
    # The circle pictures: at the start of the course, when social assessment ended, at its
    # end (or now), in that order.
    named = TreatmentCourse.objects.filter(patient__record_number__regex=NAMED).select_related(
        "patient"
    )
    for course in named:
        moments = [snapshot.moment for snapshot in circle_snapshots(course.patient, course)]
        assert moments == sorted(moments) and moments[-1] <= now, course.patient.record_number
    for model in (Patient, TreatmentCourse, TherapySession, SessionNote, Measure, Assignment):
        assert not model.objects.filter(created_at__gt=now).exists(), model.__name__
    assert not AuditEvent.objects.filter(at__gt=now).exists()
    assert not Assignment.objects.filter(completed_at__gt=now).exists()
    assert not Assignment.objects.filter(completed_at__lt=F("created_at")).exists()
