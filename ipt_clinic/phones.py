"""Telephone numbers a person is asked to call: the clinic's, the emergency number, a crisis
line, the duty contact's. Written as people write them ("020 7946 0000", "+44 20 7946 0000",
"116 123", "999"), checked so that a tap on the ``tel:`` link dials them.

No Django model here: the settings module checks its default numbers with ``phone_problem``
at start-up, before any app is loaded.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# Digits, spaces, dashes, dots and brackets; a leading + for an international number.
_WRITTEN = re.compile(r"\+?[0-9 ()\-.]+")
# Three digits (an emergency number: 999, 112, 911) to fifteen (E.164's longest).
MIN_DIGITS, MAX_DIGITS = 3, 15


def phone_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a number to dial, in a sentence; None when it is fine."""
    value = value.strip()
    if not _WRITTEN.fullmatch(value):
        return (
            f"“{value}” is not a phone number: use digits, with spaces, dashes or brackets "
            "if you like, and a + only at the start (for example 020 7946 0000 or "
            "+44 20 7946 0000)."
        )
    digits = sum(character.isdigit() for character in value)
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        return (
            f"“{value}” has {digits} digit{'' if digits == 1 else 's'}: a phone number has "
            f"{MIN_DIGITS} to {MAX_DIGITS}."
        )
    return None


def validate_phone(value: str) -> None:
    problem = phone_problem(value)
    if problem:
        raise ValidationError(problem, code="phone")


def tel_uri(number: str) -> str:
    """The ``tel:`` address of a written number: its digits, and the + if it has one."""
    digits = "".join(character for character in number if character.isdigit())
    return f"tel:{'+' if number.strip().startswith('+') else ''}{digits}"


@dataclass(frozen=True, slots=True)
class PhoneLine:
    """A number to call and what it is (``name``), as shown to a patient or a member of staff."""

    name: str
    number: str

    @property
    def tel(self) -> str:
        return tel_uri(self.number)
