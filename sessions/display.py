"""Dates and labels written as the templates write them, for tables formatted in Python: a
table of dozens of rows through ``|date`` and ``get_FOO_display`` costs several times as much
as these."""

from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

from .models import Measure

_INSTRUMENT_LABELS = dict(Measure._meta.get_field("instrument").flatchoices)


def instrument_label(code: str) -> str:
    """``measure.get_instrument_display()`` for ``code``."""
    return str(_INSTRUMENT_LABELS.get(code, code))


def day_and_time(moment, tz, *, weekday: bool = False) -> str:
    """``moment|date:"j M Y H:i"`` in ``tz`` (``"D j M Y H:i"`` with ``weekday``), the
    names through Django's translations, without the filter's per-call set-up."""
    local = timezone.localtime(moment, tz)
    text = (
        f"{local.day} {MONTHS_3[local.month].title()} {local.year:04d} "
        f"{local.hour:02d}:{local.minute:02d}"
    )
    return f"{WEEKDAYS_ABBR[local.weekday()]} {text}" if weekday else text
