"""A burst of due reminders for the fault proofs: one clinic, patient and session, and
``count`` outbox rows about it, all due now (written in bulk, as a busy morning would leave
them). Used in the test process and, against a database of the test's own, through
``manage.py shell -c "from tests.notifications.burst import write_due_burst; ..."``."""

from datetime import timedelta


def write_due_burst(count: int, label: str = "burst") -> list[str]:
    """Write the rows; return their dedupe keys (their Message-IDs derive from them)."""
    from django.utils import timezone

    from ipt_clinic.accounts.models import Clinic, Role, User
    from notifications.models import Notification
    from patients.models import Patient
    from phases.models import TreatmentCourse
    from sessions.models import TherapySession

    now = timezone.now()
    clinic = Clinic.objects.create(name="Burst Clinic", slug=f"{label}-clinic")
    therapist = User.objects.create(
        username=f"{label}-therapist",
        email=f"{label}-therapist@example.org",
        clinic=clinic,
        role=Role.THERAPIST,
    )
    patient = Patient.objects.create(
        clinic=clinic,
        primary_therapist=therapist,
        record_number=f"{label}-1",
        first_name="Robin",
        last_name="Burst",
        email="robin@example.org",
        reminder_consent=True,
        reminder_consent_at=now,
    )
    course = TreatmentCourse.objects.create(
        clinic=clinic,
        patient=patient,
        therapist=therapist,
        start_date=timezone.localdate(),
        phase_started_at=now,
    )
    session = TherapySession.objects.create(
        clinic=clinic, course=course, therapist=therapist, scheduled_start=now + timedelta(days=2)
    )
    keys = [f"{label}:{clinic.pk}:{n}" for n in range(count)]
    Notification.objects.bulk_create(
        Notification(
            clinic=clinic,
            patient=patient,
            kind="session_reminder",
            channel="email",
            recipient=patient.email,
            about_type="session",
            about_id=session.pk,
            due_at=now - timedelta(seconds=1),
            dedupe_key=key,
        )
        for key in keys
    )
    return keys
