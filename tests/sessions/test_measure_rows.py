"""The session page's questionnaire table and the course's sessions and scores tables are
formatted in Python: the same text as the template filters they replaced."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.template import Context, Template

from sessions.display import day_and_time


def test_times_read_as_the_date_filter_writes_them():
    template = Template(
        '{% load tz %}{% timezone tz %}{{ moment|date:"j M Y H:i" }}|'
        '{{ moment|date:"D j M Y H:i" }}{% endtimezone %}'
    )
    start = datetime(2026, 1, 1, 0, 7, tzinfo=UTC)
    for zone in ("Europe/London", "America/New_York", "Australia/Adelaide", "UTC"):
        tz = ZoneInfo(zone)
        # Every month, both clock changes, single- and double-digit days and hours.
        for step in range(0, 24 * 400, 37):
            moment = start + timedelta(hours=step)
            expected = template.render(Context({"moment": moment, "tz": zone}))
            written = f"{day_and_time(moment, tz)}|{day_and_time(moment, tz, weekday=True)}"
            assert written == expected
