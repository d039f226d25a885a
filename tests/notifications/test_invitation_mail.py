"""A staff invitation goes through the outbox: queued with the account, retried while the mail
server is down, delivered once when it is back, with the same Message-ID on every attempt and
a working link; inviting again while it is unsent or failed queues it again."""

import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.accounts.models import User
from ipt_clinic.audit.models import AuditEvent
from notifications.content import message_id
from notifications.models import Notification
from tests.outbox_run import deliver_due

pytestmark = pytest.mark.django_db

NIA = {"email": "nia@example.org", "first_name": "Nia", "last_name": "Newman"}
LINK = re.compile(r"https://clinic\.example\.org(/accounts/invite/\S+/)")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://clinic.example.org"


def _invite(admin_client_) -> str:
    response = admin_client_.post(reverse("caseload:staff_invite"), NIA, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_it_queues_the_invitation_while_the_mail_server_is_down_and_sends_it_once_back_up(
    admin_client_, mail_server, time_machine
):
    page = _invite(admin_client_)
    assert "Invitation queued for nia@example.org" in page
    assert "Invitation sent" not in page
    [row] = Notification.objects.filter(kind="staff_invite")
    assert (row.status, row.recipient, row.patient_id) == ("pending", "nia@example.org", None)

    assert deliver_due() == ["retry"]  # nothing listens on the mail server's port
    row.refresh_from_db()
    assert row.status == "pending" and "ConnectionRefusedError" in row.last_error

    mail_server.start()
    time_machine.move_to(row.next_attempt_at + timedelta(seconds=1))
    assert deliver_due() == ["sent"]
    assert deliver_due() == []
    assert dict(mail_server.accepted) == {message_id(row): 1}
    [message] = mail_server.messages
    assert message["To"] == "nia@example.org"
    [path] = LINK.findall(message.get_payload())
    assert "Set password" in Client().get(path).content.decode()


def test_it_sends_every_attempt_with_the_same_message_id(admin_client_, mail_server, time_machine):
    mail_server.data_replies = ["451 4.3.0 Try again later"]  # takes it whole, then refuses
    mail_server.start()
    _invite(admin_client_)
    row = Notification.objects.get(kind="staff_invite")

    assert deliver_due() == ["retry"]
    row.refresh_from_db()
    time_machine.move_to(row.next_attempt_at + timedelta(seconds=1))
    assert deliver_due() == ["sent"]

    assert mail_server.seen == [message_id(row), message_id(row)]
    assert dict(mail_server.accepted) == {message_id(row): 1}


def test_it_queues_a_failed_invitation_again_when_invited_again(
    admin_client_, mail_server, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    _invite(admin_client_)
    assert deliver_due() == ["failed"]  # the mail server is down: one attempt, given up

    page = _invite(admin_client_)
    assert "Invitation queued for nia@example.org" in page
    assert "already exists" not in page
    row = Notification.objects.get(kind="staff_invite")  # the same row, queued again
    assert (row.status, row.attempts) == ("pending", 0)
    assert User.objects.filter(email="nia@example.org").count() == 1

    mail_server.start()
    assert deliver_due() == ["sent"]
    assert dict(mail_server.accepted) == {message_id(row): 1}


def test_it_sends_one_mail_when_invited_twice_before_it_went(admin_client_):
    _invite(admin_client_)
    _invite(admin_client_)
    assert deliver_due() == ["sent"]
    assert [message.to for message in mail.outbox] == [["nia@example.org"]]
    assert AuditEvent.objects.filter(summary__startswith="Invited Nia Newman").count() == 2


def test_it_keeps_the_invitation_link_out_of_the_outbox_and_the_logs(admin_client_, caplog):
    caplog.set_level(logging.DEBUG)
    _invite(admin_client_)
    assert deliver_due() == ["sent"]
    [path] = LINK.findall(mail.outbox[0].body)
    token = path.rstrip("/").rsplit("/", 1)[1]

    row = Notification.objects.get(kind="staff_invite")
    stored = f"{row.payload} {row.last_error} {row.dedupe_key} {row.recipient}"
    assert token not in stored
    assert all(token not in record.getMessage() for record in caplog.records)
    assert not AuditEvent.objects.filter(summary__contains=token).exists()
    # The token is made when the mail leaves: it is valid, and nowhere else.
    assert row.sent_at is not None and row.sent_at <= timezone.now()
