"""The small demo's four hand-written stories: one IPT course per problem area, each at another
phase, told through the services at the moments they happened, whatever the day and hour the
demo is seeded (here at the awkward instants of the clinic's calendar)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from patients.models import Patient
from sessions.models import Measure, SessionNote, TherapySession

INSTANTS = {
    "spring-clocks-change": datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    "new-year-2359": datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
    "monday-0030": datetime(2026, 12, 7, 0, 30, tzinfo=UTC),
}


@pytest.fixture(scope="module", params=list(INSTANTS.values()), ids=list(INSTANTS))
def seeded_at(request, django_db_setup, django_db_blocker):
    """The small demo seeded at one of the instants (once for the module, rolled back after)."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(request.param, tick=False),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield request.param
        transaction.set_rollback(True)


@pytest.fixture
def stories(seeded_at, db):
    """Anna Whitfield's patients by record number, read at the moment they were seeded."""
    with time_machine.travel(seeded_at, tick=False):
        yield {
            p.record_number: p
            for p in Patient.objects.filter(primary_therapist__username="north.anna")
        }


def _course(patient):
    return patient.courses.get()


def test_it_tells_one_course_per_problem_area_each_at_another_phase(stories):
    found = {
        number: (
            _course(p).problem_areas.values_list("kind", flat=True).first(),
            _course(p).phase,
        )
        for number, p in stories.items()
    }
    assert found == {
        "NG-0001": ("grief", "termination"),
        "NG-0002": ("role_dispute", "problem_solving"),
        "NG-0003": ("role_transition", "social"),
        "NG-0004": (None, "initial"),
    }


def test_it_mourns_frank_and_plans_for_the_end_with_the_living(stories):
    margaret = _course(stories["NG-0001"])
    grief = margaret.problem_areas.get()
    frank = grief.deceased
    assert (frank.name, frank.kind, frank.deceased) == ("Frank", "partner", True)
    assert frank.died_on is not None and frank.died_on < margaret.start_date
    # Widowed: her only partner in the inventory is Frank, who died.
    assert list(stories["NG-0001"].relationships.filter(kind="partner")) == [frank]
    plan = margaret.relapse_plan
    assert sorted(plan.supports.values_list("name", flat=True)) == ["Claire", "Jean", "Pat"]
    assert (margaret.baseline_phq9, margaret.latest_phq9) == (19, 7)
    assert list(margaret.assignments.filter(status="assigned").values_list("kind", flat=True)) == [
        "reading"
    ]
    # Pat moved closer when Margaret went back to the choir: the circle changed in the course.
    assert list(
        grief.deceased.patient.relationship_revisions.filter(name="Pat").values_list(
            "ring", flat=True
        )
    ) == [3, 2]


def test_it_moves_rachels_dispute_on_and_leaves_her_risk_flag_open(stories):
    course = _course(stories["NG-0002"])
    dispute = course.problem_areas.get()
    assert (dispute.other_party.name, dispute.other_party.kind) == ("Marcus", "partner")
    assert dispute.dispute_stage == "renegotiation"
    assert course.sessions.filter(status="no_show").count() == 1
    flag = Measure.objects.get(course=course, risk_flag=True)
    assert flag.entered_by_kind == "patient" and flag.risk_responded_at is None
    assert flag.taken_at <= timezone.now()
    # The stage at each middle session, impasse until the first Sunday talk, then
    # renegotiation: the history the course page draws.
    stages = list(dispute.stage_entries.values_list("stage", flat=True))
    assert stages == ["impasse"] * 4 + ["renegotiation"] * 2
    entries = list(dispute.stage_entries.exclude(session_id=None))
    held = {s.pk: s for s in course.sessions.filter(status="attended")}
    assert all(
        entry.recorded_on == timezone.localtime(held[entry.session_id].scheduled_start).date()
        for entry in entries
    )
    assert AuditEvent.objects.filter(
        patient_id=course.patient_id, summary="Role dispute's stage recorded: Renegotiation"
    ).exists()
    # Reviewed at the halfway session, the eighth of sixteen, before the ninth was held.
    review = course.mid_course_reviews.get()
    assert (review.sessions_held, review.planned_sessions, review.focus) == (8, 16, "kept")
    assert held[review.session_id].scheduled_start < course.last_attended_at


def test_rachel_practises_asking_marcus_and_keeps_a_mood_log(stories):
    course = _course(stories["NG-0002"])
    practice = course.assignments.get(kind="communication", entries__isnull=False)
    said = practice.entries.get()
    assert (said.kind, said.feeling) == ("communication", 6)
    assert said.said and said.response and said.next_time
    log = course.assignments.filter(kind="log", entries__isnull=False).distinct().get()
    days = list(log.entries.values_list("entry_date", flat=True))
    assert len(days) == 6 and days == sorted(set(days))
    # Written in the week between the session that set it and the one that reviewed it.
    set_on = timezone.localtime(log.session.scheduled_start).date()
    reviewed_on = timezone.localtime(log.reviewed_in.scheduled_start).date()
    assert set_on < days[0] and days[-1] < reviewed_on
    assert all(entry.created_at.date() == entry.entry_date for entry in log.entries.all())
    # Both reviewed in a session: the patient's entries are read-only now.
    assert practice.reviewed_in_id and log.reviewed_in_id


def test_it_reviews_margaret_at_the_halfway_session(stories):
    margaret = _course(stories["NG-0001"])
    review = margaret.mid_course_reviews.get()
    assert (review.sessions_held, review.planned_sessions) == (6, 12)
    assert (review.baseline_phq9, review.phq9) == (19, 13)
    assert margaret.medication_considered and margaret.referral_considered


def test_margaret_agreed_the_formulation_shared_in_her_words_and_priyas_is_not_shared(stories):
    margaret = _course(stories["NG-0001"])
    share = margaret.formulation_shares.get()
    assert share.withdrawn_at is None and "Frank" in share.text
    assert share.text != margaret.formulation  # her words, not the clinical wording
    [answer] = share.answers.all()
    assert answer.answer == "agree"
    assert timezone.localdate(share.shared_at) == margaret.formulation_agreed_on
    assert share.shared_at < answer.at < timezone.now()
    assert AuditEvent.objects.filter(
        object_type="phases.formulationanswer", object_id=answer.pk, actor_kind="patient"
    ).exists()
    priya = _course(stories["NG-0003"])
    assert not priya.formulation_shares.exists()


def test_it_leaves_priya_in_social_assessment_and_jamie_at_the_start(stories):
    priya = _course(stories["NG-0003"])
    assert priya.problem_areas.get().new_role.startswith("At home with a first baby")
    assert priya.formulation == "" and priya.formulation_agreed_on is None
    assert priya.sessions.filter(modality="video").count() == priya.sessions.count()
    jamie = _course(stories["NG-0004"])
    assert jamie.sessions_attended == 2
    assert jamie.contract_agreed_on == timezone.localtime(jamie.last_attended_at).date()
    assert stories["NG-0004"].relationships.count() == 3


def test_it_tells_each_story_through_the_services_at_the_moments_it_happened(stories):
    now = timezone.now()
    for patient in stories.values():
        events = AuditEvent.objects.filter(patient_id=patient.pk)
        course = _course(patient)
        assert events.filter(summary=f"Patient {patient.record_number} created").count() == 1
        assert events.filter(summary="IPT course started").count() == 1
        sessions = list(course.sessions.order_by("scheduled_start"))
        booked = events.filter(summary__startswith="Session booked")
        assert booked.count() == len(sessions)
        # Each session booked when it was (a week ahead at the end of the one before), each
        # note signed, each with the time the service stamped then.
        assert sorted(booked.values_list("at", flat=True)) == [s.created_at for s in sessions]
        notes = SessionNote.objects.filter(session__course=course)
        assert notes.count() == course.sessions_attended
        signed = events.filter(action="sign").values_list("at", flat=True)
        assert sorted(signed) == sorted(n.signed_at for n in notes)
        assert all(s.scheduled_start < now for s in sessions if s.status != "scheduled")
        assert [s.scheduled_start > now for s in sessions].count(True) == 1
        assert not events.filter(at__gt=now).exists()
    # Anna sees each patient on their own weekday and hour: no two sessions overlap.
    calendar = sorted(
        TherapySession.objects.filter(therapist__username="north.anna").values_list(
            "scheduled_start", "duration_minutes"
        )
    )
    for (start, minutes), (following, _) in zip(calendar, calendar[1:], strict=False):
        assert start + timedelta(minutes=minutes) <= following
