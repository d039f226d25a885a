"""A questionnaire sent again from the same form with other answers (the therapist pressed
Back and changed an answer) is a correction: recorded beside the first, scored and flagged by
the usual rules, and the only one that figures, charts, lists and risk flags read."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from caseload.dashboard_selectors import dashboard_for_clinic
from caseload.home_selectors import caseload_courses
from ipt_clinic.audit.models import AuditEvent
from sessions import selectors
from sessions.models import Measure
from tests.factories import SessionFactory
from tests.form_keys import key_on

pytestmark = pytest.mark.django_db


def _answers(values: list[int], key: str) -> dict:
    return {"form_key": key, **{f"item_{n}": v for n, v in enumerate(values, start=1)}}


def _session(course):
    return SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )


def test_it_records_item_9_raised_on_the_same_form_as_a_flagged_correction(
    therapist_client, course, therapist
):
    session = _session(course)
    url = reverse("therapy:measure_new", args=[session.pk, "phq9"])
    key = key_on(therapist_client.get(url))
    assert therapist_client.post(url, _answers([1] * 8 + [0], key)).status_code == 302
    first = Measure.objects.get(course=course)

    corrected = therapist_client.post(url, _answers([1] * 8 + [3], key), follow=True)
    page = corrected.content.decode()
    assert "PHQ-9 corrected: now 11 (moderate)" in page
    assert "Question 9 was answered above 0" in page

    first.refresh_from_db()
    correction = Measure.objects.get(corrects=first)
    assert first.superseded_at is not None
    assert correction.superseded_at is None
    assert (correction.answers[8], correction.total, correction.severity) == (3, 11, "moderate")
    assert correction.risk_flag and correction.risk_responded_at is None
    assert (correction.session, correction.taken_at) == (session, first.taken_at)
    assert correction.entered_by == therapist
    course.refresh_from_db()
    assert (course.baseline_phq9, course.latest_phq9) == (11, 11)
    event = AuditEvent.objects.get(object_id=correction.pk, action="update")
    assert event.summary.startswith("PHQ-9 corrected: total 8 → 11 (moderate); item 9 positive")
    assert event.changes["corrects"] == [None, first.pk]

    # The session page lists the correction only, with its open flag.
    assert [m.pk for m in selectors.session_measures(session)] == [correction.pk]
    assert "Open risk flag" in page
    # The same corrected answers once more change nothing.
    again = therapist_client.post(url, _answers([1] * 8 + [3], key), follow=True)
    assert "Already saved" in again.content.decode()
    assert Measure.objects.filter(course=course).count() == 2


def test_it_reads_only_the_correction_in_figures_charts_and_lists(
    therapist_client, course, therapist
):
    session = _session(course)
    url = reverse("therapy:measure_new", args=[session.pk, "phq9"])
    key = key_on(therapist_client.get(url))
    therapist_client.post(url, _answers([2] * 8 + [2], key))  # flagged, 18
    therapist_client.post(url, _answers([2] * 8 + [0], key))  # corrected: 16, no flag
    correction = Measure.objects.get(superseded_at__isnull=True)

    course.refresh_from_db()
    assert (course.baseline_phq9, course.latest_phq9) == (16, 16)
    assert selectors.course_measures(course) == [correction]
    assert selectors.course_chart_data(course).measures == [correction]


def test_it_keeps_the_flag_of_answers_corrected_afterwards_open_until_a_response(
    therapist_client, course, therapist
):
    session = _session(course)
    url = reverse("therapy:measure_new", args=[session.pk, "phq9"])
    key = key_on(therapist_client.get(url))
    therapist_client.post(url, _answers([2] * 8 + [2], key))  # item 9 answered 2: flagged
    therapist_client.post(url, _answers([2] * 8 + [0], key))  # then corrected to 0
    first = Measure.objects.get(superseded_at__isnull=False)

    # What was first answered still needs a clinician's response, everywhere flags show.
    assert selectors.open_risk_flags(course) == [first]
    [home_course] = caseload_courses(therapist)
    assert home_course.has_open_risk
    dashboard = dashboard_for_clinic(course.clinic_id, course.clinic.tz)
    assert dashboard.totals.counts["risk_open"] == 1
    chart_page = therapist_client.get(reverse("therapy:course_sessions", args=[course.pk]))
    assert "changed these answers afterwards" in chart_page.content.decode()
    course_page = therapist_client.get(reverse("phases:course", args=[course.pk]))
    assert "changed these answers afterwards" in course_page.content.decode()
    session_page = therapist_client.get(reverse("therapy:session", args=[session.pk]))
    assert "changed these answers afterwards" in session_page.content.decode()

    therapist_client.post(
        reverse("therapy:risk_respond", args=[first.pk]),
        {"action": "contacted_patient", "response": "Called her: safe."},
    )
    assert selectors.open_risk_flags(course) == []
