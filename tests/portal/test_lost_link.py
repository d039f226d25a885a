"""“Lost your link?”: a patient types the email address or phone number on file and a new
personal link goes to that contact, once, through the outbox; the page answers the same
whether or not anything matched (portal/lost_link.py)."""

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent
from ipt_clinic.log_redaction import MARKER
from notifications import sms
from notifications.models import Notification, NotificationStatus
from patients.models import PatientStatus, PortalLink
from patients.notices import PORTAL_LINK_ASKED
from patients.portal_links import hash_token, portal_link_create
from phases.models import CourseStatus
from portal.lost_link import phone_normalised
from tests.factories import CourseFactory, PatientFactory, UserFactory
from tests.outbox_run import deliver_due

from .conftest import open_portal

LOST = "/p/lost/"
ASKED = "/p/lost/asked/"
# A Wednesday morning, away from quiet hours and from any clock change.
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
URL_IN_TEXT = re.compile(r"http://\S+/p/[\w-]{40,}/")


@pytest.fixture(autouse=True)
def _quick_answers(settings):
    # The least answer time is a test of its own (below); the others need not wait for it.
    settings.PORTAL_LOST_LINK_ANSWER_MS = 1
    sms.outbox.clear()


@pytest.fixture
def in_treatment(course, therapist):
    """The fixture patient, in treatment, who was given a portal link (the one returned)."""
    patient = course.patient
    patient.email = "Jamie.Rivers@Example.org"
    patient.phone = "07700 900123"
    patient.save()
    link, _url = portal_link_create(patient=patient, by=therapist)
    return link


def _ask(contact: str, client: Client | None = None, **extra):
    return (client or Client()).post(LOST, {"contact": contact}, **extra)


def _asked_rows():
    return Notification.objects.filter(kind=PORTAL_LINK_ASKED)


def _without_nonce(body: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', body)


def _delivered_url() -> str:
    """The link in the one message the outbox sent (email or text)."""
    texts = [message.body for message in mail.outbox] + [text.body for text in sms.outbox]
    [text] = texts
    [url] = URL_IN_TEXT.findall(text)
    return url


def test_it_sends_a_new_link_by_email_to_the_address_on_file(in_treatment):
    response = _ask("  jamie.rivers@EXAMPLE.org ")

    assert response.status_code == 302 and response["Location"] == ASKED
    [row] = _asked_rows()
    assert (row.channel, row.recipient) == ("email", "Jamie.Rivers@Example.org")
    in_treatment.refresh_from_db()
    assert in_treatment.revoked_at is not None  # replaced, as a link made by staff does
    assert deliver_due() == ["sent"]
    [message] = mail.outbox
    assert message.to == ["Jamie.Rivers@Example.org"]
    assert message.subject == "Your new personal link from Riverside Clinic"
    url = _delivered_url()
    live = PortalLink.objects.get(patient=in_treatment.patient, revoked_at__isnull=True)
    assert live.token_hash == hash_token(urlsplit(url).path.split("/")[2])
    assert open_portal(Client(), url).status_code == 302
    # The URL was kept only until the message left.
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and row.payload == {}


@pytest.mark.parametrize(
    "typed",
    ["07700 900123", "07700-900-123", "+44 7700 900123", "0044 7700 900123", "+44 (0)7700 900123"],
)
def test_it_sends_a_text_to_the_phone_on_file_however_the_number_is_written(in_treatment, typed):
    _ask(typed)

    [row] = _asked_rows()
    assert (row.channel, row.recipient) == ("sms", "07700 900123")
    assert deliver_due() == ["sent"]
    [text] = sms.outbox
    assert text.to == "07700 900123"
    assert mail.outbox == []  # only the contact that matched
    assert open_portal(Client(), _delivered_url()).status_code == 302


@pytest.mark.parametrize("typed", ["07700 900124", "+33 7700 900123", "jamie.rivers@example.com"])
def test_it_sends_nothing_for_a_contact_not_on_file(in_treatment, typed):
    response = _ask(typed)

    assert response.status_code == 302 and response["Location"] == ASKED
    assert not _asked_rows().exists()
    in_treatment.refresh_from_db()
    assert in_treatment.revoked_at is None  # the patient's own link still works


def test_it_reads_phone_numbers_by_their_digits_and_country_code(settings):
    assert phone_normalised("(020) 7946-0000") == "+442079460000"
    assert phone_normalised("0044 20 7946 0000") == "+442079460000"
    assert phone_normalised("+44 (0)20 7946 0000") == "+442079460000"
    assert phone_normalised("+33 6 12 34 56 78") == "+33612345678"
    assert phone_normalised("12345") is None  # too short to be anyone's line
    assert phone_normalised("call me") is None
    settings.PHONE_COUNTRY_CODE = "1"
    assert phone_normalised("555-123-4567") == phone_normalised("+1 555 123 4567")


def test_it_answers_the_same_page_whether_or_not_the_address_is_on_file(in_treatment):
    matched = _ask("jamie.rivers@example.org", follow=True)
    unmatched = _ask("nobody@example.org", follow=True)

    assert matched.redirect_chain == unmatched.redirect_chain == [(ASKED, 302)]
    assert matched.status_code == unmatched.status_code == 200
    # Byte for byte, but for the nonce every page's scripts carry.
    assert _without_nonce(matched.content) == _without_nonce(unmatched.content)
    assert b"Check your messages" in matched.content
    assert _asked_rows().count() == 1


def test_it_takes_as_long_to_answer_whether_or_not_the_address_is_on_file(in_treatment, settings):
    settings.PORTAL_LOST_LINK_ANSWER_MS = 400
    timings = {}
    for name, typed in [("matched", "jamie.rivers@example.org"), ("unmatched", "no@example.org")]:
        started = time.monotonic()
        assert _ask(typed).status_code == 302
        timings[name] = time.monotonic() - started

    assert timings["matched"] >= 0.4 and timings["unmatched"] >= 0.4
    assert abs(timings["matched"] - timings["unmatched"]) < 0.2, timings
    assert _asked_rows().count() == 1


@pytest.mark.parametrize(
    "situation", ["discharged", "archived", "course completed", "course dropped", "no link ever"]
)
def test_it_sends_nothing_to_a_patient_not_in_treatment_with_the_portal(
    course, therapist, situation
):
    patient = course.patient
    patient.email = "jamie@example.org"
    if situation != "no link ever":
        portal_link_create(patient=patient, by=therapist)
    if situation in ("discharged", "archived"):
        patient.status = (
            PatientStatus.DISCHARGED if situation == "discharged" else PatientStatus.ARCHIVED
        )
    else:
        course.status = (
            CourseStatus.COMPLETED if situation == "course completed" else CourseStatus.DROPPED_OUT
        )
        course.ended_at = timezone.now()
        course.save()
    patient.save()

    response = _ask("jamie@example.org", follow=True)

    assert b"Check your messages" in response.content
    assert not _asked_rows().exists()


def test_it_sends_each_clinic_its_own_link_when_two_have_the_same_address(
    in_treatment, other_clinic
):
    elsewhere = PatientFactory(
        primary_therapist=UserFactory(username="erin", clinic=other_clinic),
        email="jamie.rivers@example.org",
        phone="",
    )
    CourseFactory(patient=elsewhere)
    portal_link_create(patient=elsewhere, by=None)

    _ask("Jamie.Rivers@example.org")

    rows = {row.clinic_id: row for row in _asked_rows()}
    assert set(rows) == {in_treatment.clinic_id, other_clinic.pk}
    assert rows[other_clinic.pk].patient_id == elsewhere.pk
    assert rows[other_clinic.pk].recipient == "jamie.rivers@example.org"
    assert rows[in_treatment.clinic_id].recipient == "Jamie.Rivers@Example.org"
    assert sorted(deliver_due()) == ["sent", "sent"]
    assert sorted(message.subject for message in mail.outbox) == [
        "Your new personal link from Hillside Clinic",
        "Your new personal link from Riverside Clinic",
    ]


def test_it_puts_one_row_in_the_outbox_and_sends_it_once(in_treatment):
    _ask("jamie.rivers@example.org")

    assert _asked_rows().count() == 1
    assert deliver_due() == ["sent"]
    assert deliver_due() == []
    assert len(mail.outbox) == 1


def test_it_throttles_requests_per_client_address(in_treatment, settings):
    settings.PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR = 2
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    with time_machine.travel(NOW, tick=False) as clock:
        _ask("someone@example.org", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
        _ask("someone.else@example.org", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
        throttled = _ask("jamie.rivers@example.org", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

        assert throttled.status_code == 302 and throttled["Location"] == ASKED
        assert not _asked_rows().exists()
        assert AuditEvent.objects.filter(summary__contains="too many requests").count() == 1
        # Another client behind the same proxy is counted apart.
        _ask("jamie.rivers@example.org", HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
        assert _asked_rows().count() == 1
        # The next hour the first client may ask again.
        clock.move_to(NOW + timedelta(hours=1))
        _ask("jamie.rivers@example.org", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
        assert _asked_rows().count() == 2


def test_it_sends_a_patient_at_most_three_links_a_day(in_treatment, settings):
    with time_machine.travel(NOW, tick=False) as clock:
        for minutes in (0, 10, 20, 30):
            clock.move_to(NOW + timedelta(minutes=minutes))
            # From different addresses: the patient's limit holds wherever they ask from.
            response = _ask("jamie.rivers@example.org", REMOTE_ADDR=f"192.0.2.{minutes + 1}")
            assert response["Location"] == ASKED

        assert _asked_rows().count() == 3
        refused = AuditEvent.objects.get(
            patient_id=in_treatment.patient_id, summary__contains="not sent"
        )
        assert "3 sent in the last 24 hours" in refused.summary
        # A day after the first, one more may go.
        clock.move_to(NOW + timedelta(days=1, minutes=1))
        _ask("jamie.rivers@example.org")
        assert _asked_rows().count() == 4


def test_it_audits_a_match_on_the_patient_without_the_token_or_the_value_typed(in_treatment):
    _ask("07700 900123")
    assert deliver_due() == ["sent"]
    token = urlsplit(_delivered_url()).path.split("/")[2]

    asked = AuditEvent.objects.get(
        patient_id=in_treatment.patient_id, action=AuditAction.PORTAL_ACTION
    )
    assert asked.actor_kind == "patient"
    assert asked.object_type == "patients.portallink"
    assert "sent by text message" in asked.summary
    for event in AuditEvent.objects.all():
        written = f"{event.summary} {event.changes}"
        assert token not in written
        assert "900123" not in written


def test_it_counts_an_unmatched_request_without_the_value_typed(in_treatment):
    _ask("someone@example.org")
    _ask(" SOMEONE@example.org")
    _ask("other@example.org")

    events = list(
        AuditEvent.objects.filter(summary__contains="no patient in treatment").order_by("pk")
    )
    assert len(events) == 3
    assert all(event.patient_id is None and event.clinic_id is None for event in events)
    assert all("someone" not in event.summary and "other@" not in event.summary for event in events)
    digests = [event.summary.rsplit("digest ", 1)[1] for event in events]
    assert digests[0] == digests[1] != digests[2]  # the same address, told apart from another


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Please type your email address or phone number."),
        ("   ", "Please type your email address or phone number."),
        ("my name is Jamie", "Please type an email address (like name@example.com) or a phone"),
        ("jamie.rivers@", "This email address does not look complete."),
    ],
)
def test_it_says_in_plain_words_what_is_wrong_and_keeps_what_was_typed(in_treatment, typed, said):
    response = _ask(typed)

    assert response.status_code == 200
    body = response.content.decode()
    assert said in body
    assert 'aria-invalid="true"' in body
    if typed.strip():
        assert f'value="{typed}"' in body
    assert not _asked_rows().exists()


def test_it_refuses_the_request_without_the_csrf_token(in_treatment):
    response = _ask("jamie.rivers@example.org", Client(enforce_csrf_checks=True))

    assert response.status_code == 403
    assert not _asked_rows().exists()


def test_it_sends_nothing_once_the_contact_on_file_has_changed(in_treatment):
    _ask("jamie.rivers@example.org")
    patient = in_treatment.patient
    patient.email = "jamie.new@example.org"
    patient.save()

    assert deliver_due() == ["cancelled"]
    assert mail.outbox == []
    [row] = _asked_rows()
    assert "contact on file changed" in row.last_error and row.payload == {}


def test_it_sends_nothing_once_a_newer_link_replaced_it(in_treatment):
    _ask("jamie.rivers@example.org")
    _ask("07700 900123")

    assert deliver_due() == ["cancelled", "sent"]
    [text] = sms.outbox
    assert open_portal(Client(), _delivered_url()).status_code == 302


def test_the_message_names_no_treatment_and_nothing_clinical(in_treatment):
    _ask("jamie.rivers@example.org")
    assert deliver_due() == ["sent"]
    _ask("07700 900123")
    assert deliver_due() == ["sent"]

    [message] = mail.outbox
    [text] = sms.outbox
    html = message.alternatives[0][0]
    for words in [message.subject, message.body, html, text.body, message.from_email]:
        for clinical in ["IPT", "Interpersonal", "therap", "depress", "PHQ", "course", "session"]:
            assert clinical.lower() not in words.lower(), (clinical, words)
    assert "Hello Jamie" in message.body


@pytest.mark.parametrize("page", ["expired", "left", "not found"])
def test_the_dead_end_pages_point_to_it(portal_link, portal_client, page):
    link, url = portal_link
    if page == "expired":
        PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(days=1))
        response = Client().get(urlsplit(url).path)
        assert response.status_code == 410
    elif page == "left":
        response = portal_client.post(reverse("portal:leave"))
        assert response.status_code == 200
    else:
        response = Client().get("/p/not-a-real-link-at-all/")
        assert response.status_code == 404
    assert f'href="{LOST}"' in response.content.decode()


def test_the_link_page_tells_staff_patients_can_ask_themselves(therapist_client, patient):
    response = therapist_client.get(
        reverse("portal:link_manage", kwargs={"patient_id": patient.pk})
    )

    body = response.content.decode()
    assert f'href="{LOST}"' in body
    assert "can also get a new link without calling the clinic" in body


def test_it_keeps_the_token_out_of_every_log(in_treatment, settings, caplog):
    # The console backend writes each text message, link and all, to the log.
    settings.SMS_BACKEND = "notifications.sms.ConsoleSmsBackend"
    caplog.set_level(logging.DEBUG)
    _ask("07700 900123")
    [row] = _asked_rows()
    url = row.payload["url"]
    token = urlsplit(url).path.split("/")[2]
    assert deliver_due() == ["sent"]
    # The link opened, and a wrong one tried (a 404 Django logs with its address).
    assert open_portal(Client(), url).status_code == 302
    assert Client().get(url.replace(token[:8], "x" * 8)).status_code == 404

    logged = [f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records]
    [sms_line] = [line for line in logged if line.startswith("SMS to ")]
    assert f"/p/{MARKER}/" in sms_line
    assert not [line for line in logged if token in line or token[8:] in line]
