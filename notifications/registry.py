"""What a notice is about, told to the outbox by the apps above it.

The outbox sits below the clinical apps (``ipt_clinic`` ← ``notifications`` ← ``patients`` ←
``phases`` ← ``sessions``): it never imports them. Each app that sends patients notices
registers its kinds here from its ``ready()``:

* ``name`` (the row's ``kind``, at most 20 characters) and a ``label`` for the admin's pages;
* ``about_type``, the row's ``about_type`` for this kind;
* ``quiet_hours``: whether a text message of the kind waits out the clinic's quiet hours
  (patients' notices do; a staff alert about a patient's safety does not);
* ``compose(notification, now)``, called at send time with the claimed row (its ``patient``
  and ``clinic`` loaded): it loads the thing the row is about, decides whether the notice
  still applies and answers a ``Delivery`` (the address on file now and the words' values),
  or raises ``NothingToSend`` with the reason, which becomes the row's last error.

The words themselves (subject, text, HTML, SMS, the calendar file) are the outbox's
(``notifications.content``), so that no clinical content can reach a message: a kind gives
only a first name, a time and a due day.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ImproperlyConfigured

from ipt_clinic.staff_mail import NothingToSend

__all__ = ["Delivery", "NoticeKind", "NothingToSend", "kind", "kinds", "register"]


@dataclass(frozen=True)
class Delivery:
    """One patient notice, ready to be worded: where it goes and the few values it names."""

    recipient: str
    first_name: str
    # An appointment: its start (and length, for the calendar file); the calendar file is
    # attached when ``calendar_uid`` is set.
    starts_at: datetime | None = None
    duration_minutes: int = 0
    calendar_uid: str = ""
    # Homework: the day it is due.
    due_date: date | None = None
    # A link other than the portal's own address (a new portal link, a staff alert's page).
    url: str = ""


@dataclass(frozen=True)
class NoticeKind:
    name: str
    label: str
    about_type: str
    compose: Callable[..., Delivery]
    # A text message of this kind waits out the clinic's quiet hours (patients' notices);
    # an alert to staff about a patient's safety does not.
    quiet_hours: bool = True


_kinds: dict[str, NoticeKind] = {}


def register(
    *,
    name: str,
    label: str,
    about_type: str,
    compose: Callable[..., Delivery],
    quiet_hours: bool = True,
) -> NoticeKind:
    """Called from the owning app's ``ready()``; registering a name again replaces it."""
    from .content import has_words

    if len(name) > 20:
        raise ValueError(f"notice kind {name!r} is longer than 20 characters")
    if not has_words(name):
        raise ImproperlyConfigured(f"notifications.content has no words for kind {name!r}")
    registered = _kinds[name] = NoticeKind(
        name=name, label=label, about_type=about_type, compose=compose, quiet_hours=quiet_hours
    )
    return registered


def kind(name: str) -> NoticeKind | None:
    return _kinds.get(name)


def kinds() -> list[NoticeKind]:
    return list(_kinds.values())
