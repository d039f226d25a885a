"""After a reassignment the former therapist no longer meets the patient anywhere: not in their
week (a session they ran stays on record with them, but out of their lists), their home,
their patient list or their overdue notes, and the record itself answers 404. The clinic
dashboard counts the unsigned note under whoever is now to sign it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from caseload.dashboard_selectors import dashboard_for_clinic
from caseload.services import caseload_reassign
from sessions.models import SessionNote, SessionStatus
from sessions.selectors import unsigned_notes_overdue
from tests.conftest import login
from tests.factories import SessionFactory

# Thursday noon (GMT): Ann was seen on Monday, her note is still unsigned, and she is due
# again on Friday.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_it_takes_the_patient_out_of_every_list_of_the_former_therapist(
    make, therapist, other_therapist, clinic, clinic_admin, admin_client
):
    course = make(therapist, first_name="Ann", last_name="Able")
    monday = SessionFactory(
        course=course,
        scheduled_start=NOW - timedelta(days=3, hours=2),
        status=SessionStatus.ATTENDED,
    )
    SessionNote.objects.create(clinic=clinic, session=monday, phase=course.phase)
    friday = SessionFactory(course=course, scheduled_start=NOW + timedelta(days=1))
    caseload_reassign(
        from_therapist=therapist,
        to_therapist=other_therapist,
        patients=[course.patient],
        by=clinic_admin,
        reason="Alice is on leave",
    )
    alice, bob = login(Client(), therapist), login(Client(), other_therapist)

    for url in (
        reverse("therapy:week"),
        reverse("caseload:therapist_home"),
        reverse("patients:list"),
    ):
        page = alice.get(url).content.decode()
        assert "Able" not in page, url
    assert unsigned_notes_overdue(therapist) == []
    for url in (
        reverse("therapy:session", args=[monday.pk]),
        reverse("therapy:note", args=[monday.pk]),
        reverse("phases:course", args=[course.pk]),
    ):
        assert alice.get(url).status_code == 404, url
    # The session she ran stays hers on the record; the one ahead is Bob's.
    monday.refresh_from_db()
    friday.refresh_from_db()
    assert (monday.therapist, friday.therapist) == (therapist, other_therapist)
    assert "Ann Able" in bob.get(reverse("therapy:week")).content.decode()
    assert [s.pk for s in unsigned_notes_overdue(other_therapist)] == [monday.pk]

    # The dashboard: the unsigned note is Bob's to sign now, and its drill-down says so.
    rows = {row.therapist_id: row for row in dashboard_for_clinic(clinic.pk, clinic.tz).rows}
    assert rows[therapist.pk].counts["unsigned_notes"] == 0
    assert rows[other_therapist.pk].counts["unsigned_notes"] == 1
    drilldown = reverse("caseload:drilldown")
    for who, listed in ((therapist, False), (other_therapist, True)):
        page = admin_client.get(
            drilldown, {"metric": "unsigned_notes", "therapist": who.pk}
        ).content.decode()
        assert ("Able" in page) is listed, who
