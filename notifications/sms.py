"""Text messages through a small backend interface (``settings.SMS_BACKEND``).

A backend has one method, ``send(to, body) -> str`` returning the provider's message id. It
raises ``SmsTransientError`` for anything worth retrying (provider down, rate limit, timeout)
and ``SmsPermanentError`` when retrying cannot help (a number the provider refuses).
"""

import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """Sending a text message failed."""


class SmsTransientError(SmsError):
    """Try again later."""


class SmsPermanentError(SmsError):
    """Trying again will not help (e.g. the number is refused)."""


class BaseSmsBackend:
    def send(self, to: str, body: str, *, message_id: str) -> str:
        """Send ``body`` to ``to``; return the provider's id. ``message_id`` is ours: a
        provider that accepts an idempotency key should be given it."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes each message to the log instead of sending it (local use, the demo)."""

    def send(self, to: str, body: str, *, message_id: str) -> str:
        logger.info("SMS to %s (%s): %s", to, message_id, body)
        return f"console-{message_id}"


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    message_id: str


# What LocmemSmsBackend has "sent", like django.core.mail.outbox for email.
outbox: list[SentSms] = []
_outbox_lock = threading.Lock()


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in ``notifications.sms.outbox`` (tests)."""

    def send(self, to: str, body: str, *, message_id: str) -> str:
        with _outbox_lock:
            outbox.append(SentSms(to=to, body=body, message_id=message_id))
        return f"locmem-{message_id}"


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
