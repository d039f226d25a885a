"""A record id typed in an address or posted in an id list is ASCII digits or nothing:
Python's str.isdigit() also accepts "²" (which int() refuses) and "١٢" (which int() reads as
12), so a page reading ids that way answered 500 to the one and acted on the other."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from tests.conftest import login

pytestmark = pytest.mark.django_db

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _failed_notice(patient) -> Notification:
    return Notification.objects.create(
        clinic=patient.clinic,
        patient=patient,
        kind="session_reminder",
        channel="email",
        recipient=patient.email,
        about_type="session",
        about_id=1,
        due_at=timezone.now() - timedelta(hours=1),
        status="failed",
        attempts=6,
        dedupe_key="failed-notice",
    )


def test_it_leaves_out_posted_ids_written_in_other_digits(clinic_admin, patient):
    notice = _failed_notice(patient)
    client = login(Client(), clinic_admin)
    for written in (str(notice.pk).translate(ARABIC_INDIC), "²", f"{notice.pk}²"):
        response = client.post(reverse("caseload:notification_retry"), {"ids": [written]})
        assert response.status_code == 302
        notice.refresh_from_db()
        assert notice.status == "failed", f"retried for {written!r}"
    client.post(reverse("caseload:notification_retry"), {"ids": [str(notice.pk)]})
    notice.refresh_from_db()
    assert notice.status == "pending"


def test_it_finds_no_therapist_by_an_id_written_in_other_digits(clinic_admin, therapist):
    client = login(Client(), clinic_admin)
    week = reverse("therapy:week")
    assert client.get(week, {"therapist": therapist.pk}).status_code == 200
    for written in (str(therapist.pk).translate(ARABIC_INDIC), "²"):
        assert client.get(week, {"therapist": written}).status_code == 404, written
    reassign = reverse("caseload:reassign")
    assert client.get(reassign, {"from": therapist.pk}).status_code == 200
    for written in (str(therapist.pk).translate(ARABIC_INDIC), "²", "99999999999999999999"):
        assert client.get(reassign, {"from": written}).status_code == 404, written
