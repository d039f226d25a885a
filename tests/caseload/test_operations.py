from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from notifications.models import Heartbeat, Notification


def _notification(patient, *, status, minutes_ago, key):
    return Notification.objects.create(
        clinic=patient.clinic,
        patient=patient,
        kind="session_reminder",
        channel="email",
        recipient=patient.email,
        about_type="session",
        about_id=1,
        due_at=timezone.now() - timedelta(minutes=minutes_ago),
        status=status,
        last_error="SMTP 451 try later" if status == "failed" else "",
        dedupe_key=key,
    )


def test_it_shows_failed_and_overdue_notifications_of_the_clinic(
    make, admin_client, therapist, other_clinic_therapist
):
    mine = make(therapist).patient
    theirs = make(other_clinic_therapist).patient
    _notification(mine, status="failed", minutes_ago=30, key="a")
    _notification(mine, status="pending", minutes_ago=30, key="b")
    _notification(mine, status="pending", minutes_ago=2, key="c")  # not late yet
    _notification(mine, status="sent", minutes_ago=60, key="d")
    _notification(theirs, status="failed", minutes_ago=30, key="e")
    _notification(theirs, status="pending", minutes_ago=30, key="f")
    Heartbeat.objects.create(name="dispatch", last_run_at=timezone.now() - timedelta(minutes=3))

    response = admin_client.get(reverse("caseload:operations"))
    assert response.status_code == 200
    assert response.context["failed_count"] == 1
    assert response.context["overdue_count"] == 1
    assert response.context["beat"].name == "dispatch"
    assert reverse("caseload:notification_log") + "?status=failed" in response.content.decode()
    assert theirs.record_number not in response.content.decode()


def test_it_says_when_the_scheduler_never_ran(admin_client):
    response = admin_client.get(reverse("caseload:operations"))
    assert "Never recorded" in response.content.decode()


def test_it_is_not_found_for_a_therapist(therapist_client):
    assert therapist_client.get(reverse("caseload:operations")).status_code == 404
