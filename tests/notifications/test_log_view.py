"""The clinic admin's notification log and its retry button."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from tests.conftest import login
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _row(patient, status="failed", kind="session_reminder", key="x", **extra):
    return Notification.objects.create(
        clinic=patient.clinic,
        patient=patient,
        kind=kind,
        channel="email",
        recipient=patient.email,
        about_type="session",
        about_id=1,
        due_at=timezone.now() - timedelta(hours=1),
        status=status,
        attempts=6 if status == "failed" else 0,
        last_error="Mail server busy: 421 try later" if status == "failed" else "",
        dedupe_key=key,
        **extra,
    )


@pytest.fixture
def elsewhere(other_clinic):
    therapist = UserFactory(username="erin", clinic=other_clinic)
    return PatientFactory(primary_therapist=therapist, first_name="Zed")


def test_it_lists_the_clinics_notifications_only(clinic_admin, patient, elsewhere):
    _row(patient, key="mine")
    _row(elsewhere, key="theirs")
    response = login(Client(), clinic_admin).get(reverse("caseload:notification_log"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Jamie" in page
    assert "Zed" not in page
    assert "421 try later" in page
    assert "Retry" in page


def test_it_filters_by_status_and_kind(clinic_admin, patient):
    _row(patient, status="failed", key="a")
    _row(patient, status="sent", kind="homework_new", key="b", sent_at=timezone.now())
    client = login(Client(), clinic_admin)
    failed = client.get(reverse("caseload:notification_log"), {"status": "failed"})
    assert [n.dedupe_key for n in failed.context["page"]] == ["a"]
    homework = client.get(reverse("caseload:notification_log"), {"kind": "homework_new"})
    assert [n.dedupe_key for n in homework.context["page"]] == ["b"]
    nonsense = client.get(reverse("caseload:notification_log"), {"status": "bogus"})
    assert len(nonsense.context["page"]) == 2


def test_it_hides_the_log_from_therapists(therapist, patient):
    response = login(Client(), therapist).get(reverse("caseload:notification_log"))
    assert response.status_code == 404


def test_it_retries_a_failed_row(clinic_admin, patient):
    row = _row(patient)
    response = login(Client(), clinic_admin).post(
        reverse("caseload:notification_retry"), {"ids": [row.pk], "back": "?status=failed"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("caseload:notification_log") + "?status=failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.due_at <= timezone.now()


def test_it_retries_only_failed_rows(clinic_admin, patient):
    sent = _row(patient, status="sent", key="s", sent_at=timezone.now())
    login(Client(), clinic_admin).post(reverse("caseload:notification_retry"), {"ids": [sent.pk]})
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_it_ignores_another_clinics_rows(other_clinic_admin, patient):
    row = _row(patient)
    response = login(Client(), other_clinic_admin).post(
        reverse("caseload:notification_retry"), {"ids": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "failed"


def test_it_refuses_a_retry_from_a_therapist(therapist, patient):
    row = _row(patient)
    response = login(Client(), therapist).post(
        reverse("caseload:notification_retry"), {"ids": [row.pk]}
    )
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.status == "failed"


def test_it_does_not_follow_a_foreign_redirect(clinic_admin, patient):
    row = _row(patient)
    response = login(Client(), clinic_admin).post(
        reverse("caseload:notification_retry"), {"ids": [row.pk], "back": "//evil.example/"}
    )
    assert response["Location"] == reverse("caseload:notification_log")
