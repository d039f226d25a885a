"""Dates within reason. A date typed into a form lies in a sane range, said in a clear message
when it does not: history (a date of birth, a life event, when a contract or a formulation
was agreed, a death, a role transition) between 1900 and 2100; a booking (a session, a
series, a homework's due date) from today to two years ahead, clinic time. A date outside
the calendar's ordinary years is a typo ("9999"), and the pages that draw dates must not be
handed one."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

HISTORY_FIRST = date(1900, 1, 1)
HISTORY_LAST = date(2100, 12, 31)
BOOKING_YEARS_AHEAD = 2


def last_booking_day(today: date) -> date:
    """The last day a session may be booked on (or homework fall due), from ``today``."""
    try:
        return today.replace(year=today.year + BOOKING_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + BOOKING_YEARS_AHEAD, day=28)


def _day(value: date) -> str:
    return f"{value.day} {value:%b} {value.year}"


def check_history_date(value: date) -> None:
    if not HISTORY_FIRST <= value <= HISTORY_LAST:
        raise ValidationError(
            f"Enter a date between {_day(HISTORY_FIRST)} and {_day(HISTORY_LAST)}.",
            code="date_range",
        )


def _limit(field: forms.DateField, first: date, last: date, check) -> None:
    field.validators.append(check)
    field.widget.attrs.setdefault("min", first.isoformat())
    field.widget.attrs.setdefault("max", last.isoformat())


class HistoryDatesMixin:
    """For a form whose date fields record history: each one between 1900 and 2100."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                _limit(field, HISTORY_FIRST, HISTORY_LAST, check_history_date)


def limit_to_bookings(field: forms.DateField, today: date, *, what: str = "The date") -> None:
    """Limit ``field`` to the days a booking may fall on: ``today`` (clinic time) to two years
    ahead."""
    last = last_booking_day(today)

    def check(value: date) -> None:
        if value < today:
            raise ValidationError(f"{what} is in the past: choose today or later.", code="past")
        if value > last:
            raise ValidationError(
                f"{what} is more than {BOOKING_YEARS_AHEAD} years ahead: choose a day until "
                f"{_day(last)}.",
                code="date_range",
            )

    _limit(field, today, last, check)
