"""Mail to members of staff through the notification outbox: the invitation today, a
password reset or any other staff mail later.

The accounts sit below the outbox in the dependency order (``ipt_clinic`` ← ``sessions``),
so neither imports the other for staff mail. This registry is the meeting point:

* the app that owns a kind registers it (``register_kind``): its name, a label for the
  admin's pages, and ``compose(about_id)``, which builds the mail **at send time** from the
  member of staff it is about (``about_id``: their user id) — or raises ``NothingToSend``
  when it no longer applies (the invitation was accepted or withdrawn);
* the outbox registers how a mail is queued (``register_outbox``), and reads the kinds back
  when it sends;
* a service queues a mail with ``queue(...)`` inside its own transaction, so the mail exists
  exactly when the change that causes it commits.

Building the mail at send time means nothing secret is stored to build it later: an
invitation's link carries a token made when the mail leaves, never kept in the outbox row.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class StaffMail:
    """One mail to one member of staff (plain text; no patient data, ever)."""

    recipient: str
    subject: str
    text: str


class NothingToSend(Exception):
    """The mail no longer applies; the message says why (kept as the row's last error)."""


@dataclass(frozen=True)
class StaffMailKind:
    name: str  # the outbox row's ``kind``, at most 20 characters
    label: str
    compose: Callable[[int], StaffMail]


_kinds: dict[str, StaffMailKind] = {}
_outbox: Callable[..., object] | None = None


def register_kind(*, name: str, label: str, compose: Callable[[int], StaffMail]) -> None:
    """Called from the owning app's ``ready()``; registering a name twice keeps the last."""
    if len(name) > 20:
        raise ValueError(f"staff mail kind {name!r} is longer than 20 characters")
    _kinds[name] = StaffMailKind(name=name, label=label, compose=compose)


def kind(name: str) -> StaffMailKind | None:
    """The registered staff kind ``name``, or None (a patient notice, or unknown)."""
    return _kinds.get(name)


def kinds() -> list[StaffMailKind]:
    return sorted(_kinds.values(), key=lambda registered: registered.name)


def register_outbox(queue_mail: Callable[..., object]) -> None:
    """Called from the outbox app's ``ready()`` with its writer (see ``queue``)."""
    global _outbox
    _outbox = queue_mail


def queue(*, kind: str, about_id: int, clinic_id: int, recipient: str) -> None:
    """Put one mail of a registered ``kind`` about member of staff ``about_id`` into the
    outbox, in the caller's transaction. While an earlier mail of the same kind about the
    same person is unsent or failed, that one is queued again instead of a second copy."""
    if kind not in _kinds:
        raise ImproperlyConfigured(f"No staff mail kind {kind!r} is registered.")
    if _outbox is None:
        raise ImproperlyConfigured("No outbox is registered: is the app that sends mail installed?")
    _outbox(kind=kind, about_id=about_id, clinic_id=clinic_id, recipient=recipient)
