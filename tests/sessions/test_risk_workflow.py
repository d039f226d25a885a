"""Risk as a workflow (issue 20, points 1-3): an item-9 answer alerts the therapist and the duty
contact at once, an unacknowledged flag escalates at exactly its clinic's window, and the flag
is acknowledged and closed with the action taken, from its page or from the session note."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from notifications import sms
from notifications.models import Notification, NotificationStatus
from notifications.sending import notification_send
from sessions.measures import measure_record
from sessions.models import EnteredBy
from sessions.risk import (
    RISK_ALERT,
    RISK_ESCALATION,
    risk_flag_acknowledge,
    risk_flags_escalate,
)
from sessions.services import note_sign, note_start, session_record_attendance
from tests.conftest import login
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

FLAGGED = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # item 9 answered 2
NOW = datetime(2026, 12, 4, 21, 30, tzinfo=UTC)  # a Friday night, inside quiet hours


@pytest.fixture
def duty(clinic):
    clinic.duty_name = "Duty clinician"
    clinic.duty_email = "duty@clinic.example"
    clinic.duty_phone = "+447700900123"
    clinic.escalation_minutes = 240
    clinic.quiet_hours_start, clinic.quiet_hours_end = time(21, 0), time(8, 0)
    clinic.save()
    return clinic


@pytest.fixture
def reachable_therapist(therapist):
    therapist.mobile = "+447700900456"
    therapist.save(update_fields=["mobile"])
    return therapist


def _alerts(kind=RISK_ALERT):
    return sorted(
        (row.channel, row.recipient, row.dedupe_key.rsplit(":", 1)[-1])
        for row in Notification.objects.filter(kind=kind)
    )


def _flag(course, therapist=None, **kwargs):
    """Item 9 answered 2: in the portal by default, typed by ``therapist`` when given."""
    if therapist is None:
        kwargs["entered_by_kind"] = EnteredBy.PATIENT
    return measure_record(
        course=course, instrument="phq9", answers=FLAGGED, entered_by=therapist, **kwargs
    )


def test_it_alerts_the_therapist_and_the_duty_contact_at_once(course, reachable_therapist, duty):
    with time_machine.travel(NOW, tick=False):
        measure = _flag(course, reachable_therapist)
    assert _alerts() == sorted(
        [
            ("email", "duty@clinic.example", "duty"),
            ("email", reachable_therapist.email, "therapist"),
            ("sms", "+447700900123", "duty"),
            ("sms", "+447700900456", "therapist"),
        ]
    )
    # Due at once, quiet hours or not; and it says so in the audit trail and on the flag.
    assert set(Notification.objects.values_list("due_at", flat=True)) == {NOW}
    assert AuditEvent.objects.filter(
        object_id=measure.pk, summary__startswith="Risk alert queued"
    ).exists()


def test_it_writes_each_alert_once_for_one_answer(course, reachable_therapist, duty):
    measure = _flag(course, reachable_therapist)
    from sessions.risk import risk_flag_raised

    risk_flag_raised(measure=measure)  # a second call for the same flag
    assert len(_alerts()) == 4
    assert Notification.objects.count() == 4


def test_its_alert_names_no_one_and_no_score_and_links_to_the_flag(
    course, reachable_therapist, duty, settings
):
    settings.SITE_URL = "https://clinic.example"
    with time_machine.travel(NOW, tick=False):
        measure = _flag(course, reachable_therapist)
        rows = list(Notification.objects.filter(kind=RISK_ALERT).order_by("pk"))
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=NotificationStatus.SENDING, lease_until=NOW + timedelta(minutes=5)
        )
        results = [notification_send(row.pk) for row in rows]
    assert results == ["sent"] * 4  # the SMS is not held back by quiet hours
    link = "https://clinic.example" + reverse("therapy:risk_flag", args=[measure.pk])
    patient = course.patient
    bodies = [message.body for message in mail.outbox] + [text.body for text in sms.outbox]
    assert len(bodies) == 4
    for body in bodies:
        assert link in body
        assert "A patient's answers need review today" in body
        for secret in (patient.first_name, patient.last_name, patient.record_number, "PHQ"):
            assert not re.search(rf"\b{re.escape(secret)}\b", body), secret


def test_it_sends_no_alert_once_the_flag_is_closed(course, reachable_therapist, duty, client):
    measure = _flag(course, reachable_therapist)
    login(client, reachable_therapist).post(
        reverse("therapy:risk_respond", args=[measure.pk]),
        {"action": "contacted_patient", "response": "Phoned her: safe, plan in place."},
    )
    row = Notification.objects.filter(kind=RISK_ALERT, channel="email").first()
    Notification.objects.filter(pk=row.pk).update(
        status=NotificationStatus.SENDING, lease_until=row.due_at + timedelta(hours=1)
    )
    assert notification_send(row.pk) == "cancelled"
    row.refresh_from_db()
    assert row.last_error == "The risk flag was closed."


def test_it_escalates_exactly_at_the_end_of_the_clinics_window(
    course, reachable_therapist, duty, clinic_admin
):
    with time_machine.travel(NOW, tick=False):
        measure = _flag(course)
    window_end = measure.created_at + timedelta(minutes=240)
    with time_machine.travel(window_end - timedelta(seconds=1), tick=False):
        assert risk_flags_escalate() == 0
    with time_machine.travel(window_end, tick=False):
        assert risk_flags_escalate() == 1
        assert risk_flags_escalate() == 0  # a second beat escalates nothing more
    measure.refresh_from_db()
    assert measure.risk_escalated_at == window_end
    assert _alerts(RISK_ESCALATION) == sorted(
        [
            ("email", "duty@clinic.example", "duty"),
            ("email", clinic_admin.email, f"admin-{clinic_admin.pk}"),
            ("sms", "+447700900123", "duty"),
        ]
    )
    assert AuditEvent.objects.filter(object_id=measure.pk, summary__contains="escalated").exists()


def test_it_does_not_escalate_an_acknowledged_flag(course, reachable_therapist, duty):
    with time_machine.travel(NOW, tick=False):
        measure = _flag(course)
        risk_flag_acknowledge(measure=measure, by=reachable_therapist)
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        assert risk_flags_escalate() == 0
    measure.refresh_from_db()
    assert (measure.risk_acknowledged_by, measure.risk_acknowledged_at) == (
        reachable_therapist,
        NOW,
    )
    assert not Notification.objects.filter(kind=RISK_ESCALATION).exists()


def test_it_closes_the_flag_from_the_note_with_the_same_record(course, reachable_therapist, duty):
    client = login(Client(), reachable_therapist)
    session = SessionFactory(course=course, scheduled_start=NOW - timedelta(hours=2))
    with time_machine.travel(NOW, tick=False):
        measure = _flag(course, reachable_therapist, session=session)
        session_record_attendance(session=session, status="attended", by=reachable_therapist)
        note = note_start(session=session, by=reachable_therapist)
        note.risk_level = "low"
        note.save(update_fields=["risk_level"])
        note_page = client.get(reverse("therapy:note", args=[session.pk])).content.decode()
        assert f'id="risk-flag-{measure.pk}"' in note_page
        with pytest.raises(Exception) as refused:
            note_sign(note=note, by=reachable_therapist)
        assert "risk flag raised before or in this session is still open" in str(refused.value)

        response = client.post(
            reverse("therapy:risk_respond", args=[measure.pk]),
            {
                "action": "safety_plan_reviewed",
                "response": "Passive thoughts, no plan; safety plan agreed.",
                "note": note.pk,
                "next": reverse("therapy:note", args=[session.pk]),
            },
        )
        assert response.status_code == 302
        measure.refresh_from_db()
        assert measure.risk_closed_in_note == note
        assert measure.risk_action == "safety_plan_reviewed"
        assert measure.risk_acknowledged_by == reachable_therapist
        note_page = client.get(reverse("therapy:note", args=[session.pk])).content.decode()
        assert "Closed in this note" in note_page
        assert "Passive thoughts, no plan; safety plan agreed." in note_page
        note_sign(note=note, by=reachable_therapist)


@pytest.mark.parametrize("action", ["contacted_patient", "other"])
def test_it_refuses_to_close_a_flag_without_words_for_what_was_done(
    course, reachable_therapist, duty, client, action
):
    measure = _flag(course)
    login(client, reachable_therapist).post(
        reverse("therapy:risk_respond", args=[measure.pk]), {"action": action, "response": " "}
    )
    measure.refresh_from_db()
    assert measure.risk_responded_at is None


def test_an_answer_typed_by_staff_is_acknowledged_by_them_and_not_escalated(
    course, reachable_therapist, duty
):
    with time_machine.travel(NOW, tick=False):
        measure = _flag(course, reachable_therapist)
    measure.refresh_from_db()
    assert (measure.risk_acknowledged_by, measure.risk_acknowledged_at) == (
        reachable_therapist,
        NOW,
    )
    assert len(_alerts()) == 4  # the alerts still go out
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        assert risk_flags_escalate() == 0


def test_a_course_does_not_end_while_its_risk_flag_is_open(course, therapist_client, duty):
    measure = _flag(course)
    page = therapist_client.get(
        reverse("therapy:course_end_confirm", args=[course.pk, "drop-out"])
    ).content.decode()
    assert "A risk flag is still open." in page
    assert reverse("therapy:risk_flag", args=[measure.pk]) in page
    from phases.services import course_drop_out

    with pytest.raises(ValidationError, match="risk flag of this course is still open"):
        course_drop_out(course=course, by=course.therapist, reason="Moved away.")
    course.refresh_from_db()
    assert course.status == "active"


def test_its_page_opens_for_the_therapist_admins_and_duty_staff_only(
    course, reachable_therapist, duty, clinic_admin, other_therapist, other_clinic_admin
):
    measure = _flag(course, reachable_therapist)
    url = reverse("therapy:risk_flag", args=[measure.pk])
    assert login(Client(), reachable_therapist).get(url).status_code == 200
    assert login(Client(), clinic_admin).get(url).status_code == 200
    assert login(Client(), other_therapist).get(url).status_code == 404
    assert login(Client(), other_clinic_admin).get(url).status_code == 404
    duty.duty_staff = other_therapist
    duty.save(update_fields=["duty_staff"])
    page = login(Client(), other_therapist).get(url)
    assert page.status_code == 200
    assert "Treating therapist" in page.content.decode()
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
