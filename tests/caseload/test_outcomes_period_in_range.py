"""The outcomes period is a pair of dates between 1900 and 2100: a typed 9999 is refused on
the form (and the page and its export answer), never a server error."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "period",
    [
        {"date_from": "2026-01-01", "date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "2026-01-01"},
    ],
)
def test_it_refuses_a_period_beyond_the_calendar_of_history(admin_client_, period):
    page = admin_client_.get(reverse("caseload:outcomes"), period)
    assert page.status_code == 200
    assert "Enter a date between 1 Jan 1900 and 31 Dec 2100." in page.content.decode()
    export = admin_client_.get(reverse("caseload:export_outcomes"), period)
    assert export.status_code < 500
