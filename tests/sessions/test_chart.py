from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from phases.models import Phase, PhaseTransition
from sessions.charts import phase_bands, score_chart_svg
from sessions.measures import measure_record
from sessions.selectors import course_chart_data, course_outcome
from tests.factories import LifeEventFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_it_draws_series_thresholds_phases_and_events_readably(course, therapist):
    measure_record(course=course, instrument="phq9", answers=[2] * 9, entered_by=therapist)
    measure_record(course=course, instrument="gad7", answers=[1] * 7, entered_by=therapist)
    PhaseTransition.objects.create(
        clinic=course.clinic,
        course=course,
        kind="forward",
        from_phase=Phase.INITIAL,
        to_phase=Phase.SOCIAL,
        by=therapist,
        at=timezone.now() - timedelta(days=3),
    )
    LifeEventFactory(
        patient=course.patient,
        occurred_on=timezone.localdate() - timedelta(days=5),
        description='Lost job <script>alert("x")</script>',
    )
    svg = str(score_chart_svg(course_chart_data(course), tz=LONDON))
    assert "<title id=" in svg and "<desc id=" in svg
    assert "<script>" not in svg
    assert "Lost job &lt;script&gt;" in svg
    for threshold in ("PHQ-9 5 (mild)", "PHQ-9 10 (moderate)", "PHQ-9 15", "PHQ-9 20 (severe)"):
        assert threshold in svg
    assert "Initial" in svg and "Social" in svg
    assert "<circle" in svg  # PHQ-9 markers
    assert 'stroke-dasharray="6 4"' in svg  # GAD-7 is dashed, not just another colour
    assert "PHQ-9 18" in svg and "GAD-7 7" in svg  # direct labels at the ends


def test_it_turns_transitions_into_phase_bands(course, therapist):
    now = timezone.now()
    for days, from_phase, to_phase, kind in (
        (20, Phase.INITIAL, Phase.SOCIAL, "forward"),
        (10, Phase.SOCIAL, Phase.PROBLEM_SOLVING, "forward"),
        (5, Phase.PROBLEM_SOLVING, Phase.SOCIAL, "back"),
    ):
        PhaseTransition.objects.create(
            clinic=course.clinic,
            course=course,
            kind=kind,
            from_phase=from_phase,
            to_phase=to_phase,
            by=therapist,
            at=now - timedelta(days=days),
        )
    data = course_chart_data(course)
    bands = phase_bands(data, now - timedelta(days=30), now)
    assert [b.phase for b in bands] == ["initial", "social", "problem_solving", "social"]


def test_it_reports_response_and_remission(course, therapist):
    measure_record(course=course, instrument="phq9", answers=[2] * 9, entered_by=therapist)  # 18
    course.refresh_from_db()
    outcome = course_outcome(course)
    assert (outcome.phq9.baseline, outcome.phq9.latest, outcome.phq9.change) == (18, 18, 0)
    assert not outcome.phq9.response and not outcome.remission
    measure_record(course=course, instrument="phq9", answers=[1] * 9, entered_by=therapist)  # 9
    course.refresh_from_db()
    outcome = course_outcome(course)
    assert outcome.phq9.change == -9 and outcome.phq9.response and not outcome.remission
    measure_record(
        course=course, instrument="phq9", answers=[1] * 4 + [0] * 5, entered_by=therapist
    )
    course.refresh_from_db()
    outcome = course_outcome(course)
    assert outcome.phq9.latest == 4 and outcome.remission
