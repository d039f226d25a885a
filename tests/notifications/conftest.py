from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from sessions import notices
from tests.factories import SessionFactory


@pytest.fixture
def enqueued(monkeypatch):
    """The primary keys of the send tasks published to the broker, in order (the messages
    are built for real, then kept here instead of being sent)."""
    from kombu import Producer

    sent: list[int] = []

    def publish(self, body, *args, headers=None, **kwargs):
        assert headers["task"] == "notifications.send_notification"
        sent.append(body[0][0])

    monkeypatch.setattr(Producer, "publish", publish)
    return sent


@pytest.fixture
def session(course):
    return SessionFactory(course=course, scheduled_start=timezone.now() + timedelta(hours=30))


@pytest.fixture
def due_reminder(session) -> Notification:
    """A session reminder that is due now."""
    row = notices.on_session_booked(session)
    Notification.objects.filter(pk=row.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    row.refresh_from_db()
    return row


def claimed(row: Notification) -> Notification:
    """The row as the dispatcher leaves it: sending, with a lease, not yet taken by a sender."""
    Notification.objects.filter(pk=row.pk).update(
        status="sending", lease_until=timezone.now() + timedelta(minutes=5)
    )
    row.refresh_from_db()
    return row


def smtp_to(settings, port: int) -> None:
    """Send this process's mail by SMTP to 127.0.0.1:``port``, on a fresh connection."""
    from notifications import sending as notifications

    notifications._drop_mail_connection()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def mail_server(settings):
    """A real SMTP server the app sends to, not started yet (``mail_server.start()``): until
    then its port refuses connections, as a mail server that is down."""
    from notifications import sending as notifications

    from .harness import SmtpReceiver

    receiver = SmtpReceiver()
    smtp_to(settings, receiver.port)
    yield receiver
    notifications._drop_mail_connection()
    receiver.stop()
