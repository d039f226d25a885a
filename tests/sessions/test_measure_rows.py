"""The session page's questionnaire table is formatted in Python: the same text as the
template filters it replaced."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.template import Context, Template

from sessions.views import _day_and_time


def test_times_read_as_the_date_filter_writes_them():
    template = Template(
        '{% load tz %}{% timezone tz %}{{ moment|date:"j M Y H:i" }}{% endtimezone %}'
    )
    start = datetime(2026, 1, 1, 0, 7, tzinfo=UTC)
    for zone in ("Europe/London", "America/New_York", "Australia/Adelaide", "UTC"):
        tz = ZoneInfo(zone)
        # Every month, both clock changes, single- and double-digit days and hours.
        for step in range(0, 24 * 400, 37):
            moment = start + timedelta(hours=step)
            expected = template.render(Context({"moment": moment, "tz": zone}))
            assert _day_and_time(moment, tz) == expected
