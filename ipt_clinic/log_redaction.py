"""Secrets that travel in addresses, kept out of every log.

A patient's portal link (``/p/<token>/``), a staff invitation (``/accounts/invite/<uid>/
<token>/``) and a password reset link (``/accounts/password/reset/<uid>/<token>/``) carry
their secret in the path: whoever reads a log line holding one can open that patient's
portal or set that person's password. Request lines, Referer headers and
error reports all repeat the path, so each is rewritten with ``redact`` before it is written:
the token becomes ``[redacted]``; the rest of the line (which page, the link's user id, the
status) stays, so the logs still say what happened.

Used by gunicorn's logger (``ipt_clinic.gunicorn_logging``, for its access and error logs),
by the handlers of the settings' LOGGING (``RedactSecrets``: Django's ``django.request`` and
``django.server`` records and everything else that reaches a handler) and by the error mails
(``RedactingExceptionReporter``). Nothing here reads Django's settings on import, so gunicorn's
master process can load it before any application code.
"""

import logging
import re

from django.views.debug import ExceptionReporter

MARKER = "[redacted]"

# The portal's own pages: any other first segment after /p/ is a personal link's token.
# tests/security/test_log_redaction.py checks this list against portal/urls.py.
PORTAL_PAGES = frozenset(
    {
        "staff",
        "sessions",
        "homework",
        "questionnaires",
        "plan",
        "leave",
        "lost",
        "progress",
        "agreed",
        "about-ipt",
    }
)

# A slash as it appears in a path, or percent-encoded in a query string or a Referer
# (``?next=%2Fp%2F...``).
_SLASH = r"(?:/|%2[Ff])"
# One path segment, up to the next slash (plain or encoded), query, fragment, parameter or
# the end of a quoted log field.
_SEGMENT = r"(?:(?!%2[Ff])[^/?#&\s\"'<>])+"
_PORTAL = re.compile(rf"(?P<before>{_SLASH}p{_SLASH})(?P<secret>{_SEGMENT})")
_ACCOUNT_LINK = re.compile(
    rf"(?P<before>{_SLASH}accounts{_SLASH}(?:invite|password{_SLASH}reset)"
    rf"{_SLASH}{_SEGMENT}{_SLASH})(?P<secret>{_SEGMENT})"
)
# Where Django's password reset view moves the link once it has put the token in the session.
_NOT_A_TOKEN = frozenset({"set-password"})


def _portal(match: re.Match) -> str:
    if match["secret"] in PORTAL_PAGES:
        return match[0]
    return match["before"] + MARKER


def _account_link(match: re.Match) -> str:
    if match["secret"] in _NOT_A_TOKEN:
        return match[0]
    return match["before"] + MARKER


def redact(text: str) -> str:
    """``text`` with every link token in it replaced by MARKER."""
    return _ACCOUNT_LINK.sub(_account_link, _PORTAL.sub(_portal, text))


def secrets_in(text: str) -> list[str]:
    """The tokens ``redact`` would hide in ``text``, longest first."""
    found = [m["secret"] for m in _PORTAL.finditer(text) if m["secret"] not in PORTAL_PAGES]
    found += [m["secret"] for m in _ACCOUNT_LINK.finditer(text) if m["secret"] not in _NOT_A_TOKEN]
    return sorted(set(found), key=len, reverse=True)


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place: every handler after this one sees it redacted too."""
    message = record.getMessage()
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        # A traceback's text is made once and kept on the record (logging.Formatter).
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)


class RedactSecrets(logging.Filter):
    """A logging filter for handlers (LOGGING) and loggers (gunicorn): passes every record,
    redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class RedactingExceptionReporter(ExceptionReporter):
    """The error report (the error mail's body, DEBUG's error page) with the tokens of the
    failed request's address removed wherever they appear: in the request line, its META and
    the local variables of every frame (a view's ``token`` argument)."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self._secrets = secrets_in(request.get_full_path()) if request is not None else []

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MARKER)
        return redact(text)

    def get_traceback_text(self) -> str:
        return self._redact(super().get_traceback_text())

    def get_traceback_html(self) -> str:
        return self._redact(super().get_traceback_html())
