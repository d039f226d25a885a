"""What the session page, the note form and the questionnaire form read: each list once, the
patient header's patient and clinic with the session (never a query of their own), and the
same rows as the separate reads they replace."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import PatientStatus
from phases.models import DisputeStageEntry, Phase
from sessions import selectors, services, worksheets
from sessions.models import Measure
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

FLAGGED = [1, 1, 1, 1, 1, 1, 1, 1, 2]


def _get(client, url) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in context.captured_queries]


def _reads_of(queries: list[str], table: str) -> list[str]:
    """The queries whose own table (after FROM) is ``table``."""
    return [sql for sql in queries if f'FROM "{table}"' in sql]


def _lazy_loads(queries: list[str]) -> list[str]:
    """Queries reading one patient or clinic by itself: a row the page forgot to read."""
    return [
        sql
        for sql in queries
        if 'FROM "patients_patient" WHERE' in sql or 'FROM "accounts_clinic" WHERE' in sql
    ]


def _measure(session, *, answers=(1, 1, 1, 1, 1, 1, 1, 1, 0), minutes=5, **fields) -> Measure:
    return Measure.objects.create(
        clinic=session.clinic,
        course=session.course,
        session=session,
        instrument="phq9",
        answers=list(answers),
        total=sum(answers),
        severity="mild",
        risk_flag=answers[8] > 0,
        taken_at=session.scheduled_start + timedelta(minutes=minutes),
        entered_by=session.therapist,
        **fields,
    )


@pytest.fixture
def middle(therapist):
    """A middle-phase course with a role dispute and a role transition, and a session held an
    hour ago with its note started."""
    patient = PatientFactory(primary_therapist=therapist, record_number="NG-4711")
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    marcus = RelationshipFactory(patient=patient, name="Marcus", kind="partner")
    transition = ProblemAreaFactory(course=course, kind="role_transition", is_primary=False)
    dispute = ProblemAreaFactory(
        course=course,
        kind="role_dispute",
        other_party=marcus,
        old_role="",
        new_role="",
        is_primary=True,
    )
    earlier = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=7),
        status="attended",
        phase=Phase.PROBLEM_SOLVING,
    )
    session = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(hours=1),
        status="attended",
        phase=Phase.PROBLEM_SOLVING,
    )
    # The next appointment: the header shows it in the clinic's time zone.
    SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(days=6))
    note = services.note_start(session=session, by=therapist)
    return {
        "course": course,
        "dispute": dispute,
        "transition": transition,
        "marcus": marcus,
        "earlier": earlier,
        "session": session,
        "note": note,
    }


def test_the_session_page_reads_the_headers_patient_and_clinic_with_the_session(
    therapist_client, middle
):
    patient = middle["course"].patient
    patient.status = PatientStatus.DISCHARGED
    patient.save(update_fields=["status"])
    page, queries = _get(therapist_client, reverse("therapy:session", args=[middle["session"].pk]))
    assert _lazy_loads(queries) == []
    header = page[page.index('class="patient-header') :]
    assert "NG-4711" in header and "Discharged" in header


def test_the_note_form_and_the_questionnaire_form_read_no_patient_or_clinic_alone(
    therapist_client, middle
):
    session = middle["session"]
    page, queries = _get(therapist_client, reverse("therapy:note", args=[session.pk]))
    assert _lazy_loads(queries) == []
    assert "NG-4711" in page
    page, queries = _get(
        therapist_client, reverse("therapy:measure_new", args=[session.pk, "phq9"])
    )
    assert _lazy_loads(queries) == []
    assert "NG-4711" in page


def test_the_session_page_reads_its_questionnaires_and_open_flags_at_once(
    therapist_client, therapist, middle
):
    session = middle["session"]
    now = timezone.now()
    # Flagged answers corrected since: out of the list, its flag still open.
    corrected = _measure(session, answers=FLAGGED, superseded_at=now)
    correction = _measure(session, minutes=5, corrects=corrected)
    answered = _measure(
        session,
        answers=FLAGGED,
        minutes=10,
        risk_acknowledged_by=therapist,
        risk_acknowledged_at=now,
        risk_responded_by=therapist,
        risk_responded_at=now,
        risk_action="other",
        risk_response="Safety plan reviewed together.",
    )
    gad7 = _measure(session, minutes=15)
    read = selectors.session_questionnaires(session)
    assert [m.pk for m in read.listed] == [correction.pk, answered.pk, gad7.pk]
    assert [m.pk for m in read.open_flags] == [corrected.pk]
    assert selectors.session_measures(session) == read.listed

    page, queries = _get(therapist_client, reverse("therapy:session", args=[session.pk]))
    # One read of the session's scores (besides the header's count of the patient's flags,
    # by id, and the sign check's question whether one is open, LIMIT 1).
    reads = [
        sql
        for sql in _reads_of(queries, "therapy_measure")
        if 'AS "pk"' not in sql and not sql.endswith("LIMIT 1")
    ]
    assert len(reads) == 1
    assert f'id="risk-flag-{corrected.pk}"' in page
    assert f'id="risk-flag-{answered.pk}"' not in page
    assert "Responded by Alice Owen: Safety plan reviewed together." in page


def test_the_note_form_reads_the_problem_areas_once_for_its_focus_and_disputes(
    therapist_client, middle
):
    session, dispute, transition = middle["session"], middle["dispute"], middle["transition"]
    page, queries = _get(therapist_client, reverse("therapy:note", args=[session.pk]))
    assert len(_reads_of(queries, "phases_problemarea")) == 1
    focus = page[page.index('name="focus_problem_area"') :]
    focus = focus[: focus.index("</select>")]
    # The primary first, as the field's queryset orders them.
    assert focus.index(f'value="{dispute.pk}"') < focus.index(f'value="{transition.pk}"')
    assert f'id="note-dispute-{dispute.pk}"' in page
    assert f'id="note-dispute-{transition.pk}"' not in page
    assert "The dispute with Marcus: its stage at this session" in page


def test_the_latest_stage_recorded_at_the_session_is_the_one_shown(therapist, middle):
    session, dispute = middle["session"], middle["dispute"]
    now = timezone.now()
    for stage, note, minutes in (("renegotiation", "Later", 30), ("impasse", "First", 10)):
        DisputeStageEntry.objects.create(
            clinic=dispute.clinic,
            course=dispute.course,
            problem_area=dispute,
            stage=stage,
            recorded_on=now.date(),
            session_id=session.pk,
            note=note,
            by=therapist,
            at=now - timedelta(minutes=60 - minutes),
        )
    DisputeStageEntry.objects.create(
        clinic=dispute.clinic,
        course=dispute.course,
        problem_area=dispute,
        stage="dissolution",
        recorded_on=now.date(),
        session_id=middle["earlier"].pk,
        note="Another session",
        by=therapist,
        at=now,
    )
    (area,) = selectors.disputes_for_note(session)
    assert (area.pk, area.session_stage, area.session_stage_note) == (
        dispute.pk,
        "renegotiation",
        "Later",
    )
    assert area.session_stage_label == "Renegotiation" and area.other_name == "Marcus"
    areas = selectors.note_problem_areas(session)
    assert [a.pk for a in areas.live] == [dispute.pk, middle["transition"].pk]
    assert [(a.pk, a.session_stage) for a in areas.disputes] == [(dispute.pk, "renegotiation")]
    assert areas.live[1].session_stage is None


def test_the_note_form_reads_this_and_the_earlier_sessions_worksheets_at_once(
    therapist_client, therapist, middle
):
    session, earlier, dispute = middle["session"], middle["earlier"], middle["dispute"]
    kwargs = {"by": therapist, "problem_area": dispute, "relationship": middle["marcus"]}
    before = worksheets.worksheet_create(
        session=earlier, kind="communication_analysis", incident="The missed call", **kwargs
    )
    own = worksheets.worksheet_create(
        session=session, kind="communication_analysis", incident="The late dinner", **kwargs
    )
    listed, earlier_sheets = worksheets.note_worksheets(session)
    assert [w.pk for w in listed] == [w.pk for w in worksheets.session_worksheets(session)]
    assert [w.pk for w in listed] == [own.pk] and listed[0].summary == "The late dinner"
    assert [w.pk for w in earlier_sheets] == [w.pk for w in worksheets.earlier_worksheets(session)]
    assert [w.pk for w in earlier_sheets.last] == [before.pk] and earlier_sheets.last[0].rows

    page, queries = _get(therapist_client, reverse("therapy:note", args=[session.pk]))
    assert len(_reads_of(queries, "therapy_worksheet")) == 1
    assert "The missed call" in page[page.index('id="earlier-worksheets"') :]
    assert "The late dinner" in page[page.index('id="note-worksheets-h"') :]


def test_the_note_form_reads_the_open_and_the_closed_flags_at_once(
    therapist_client, therapist, middle
):
    session, note = middle["session"], middle["note"]
    closed = _measure(
        session,
        answers=FLAGGED,
        risk_acknowledged_by=therapist,
        risk_acknowledged_at=timezone.now(),
        risk_responded_by=therapist,
        risk_responded_at=timezone.now(),
        risk_action="other",
        risk_response="Called the crisis line together.",
        risk_closed_in_note=note,
    )
    still_open = _measure(middle["earlier"], answers=FLAGGED)
    flags = selectors.note_risk_flags(note, patient_id=session.course.patient_id)
    assert [m.pk for m in flags.open] == [still_open.pk]
    assert [m.pk for m in flags.closed] == [closed.pk]
    assert flags.open == selectors.patient_open_risk_flags(
        clinic_id=session.clinic_id, patient_id=session.course.patient_id
    )

    page, queries = _get(therapist_client, reverse("therapy:note", args=[session.pk]))
    assert len([sql for sql in _reads_of(queries, "therapy_measure") if 'AS "pk"' not in sql]) == 1
    assert f'id="risk-flag-{still_open.pk}"' in page
    assert "Closed in this note" in page and "Called the crisis line together." in page
    assert "(Alice Owen)" in page
