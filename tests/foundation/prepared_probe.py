"""Run by test_prepared_statements.py in a process of its own, against an empty migrated
PostgreSQL database, with DATABASE_SERVER_SIDE_BINDING as the test sets it: a staff member
and a patient in the portal each open their pages more often than DATABASE_PREPARE_THRESHOLD
(every request loads the session, the user with their clinic and the second-factor device,
and writes an audit event), a statement is run by hand through psycopg as code that prepares
by hand does (asking ``rows.prepares_statements()``), then every statement prepared on the
connection is printed as JSON. ``python -m tests.foundation.prepared_probe``"""

import json
import os

import django
import psycopg

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.test")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from ipt_clinic import rows  # noqa: E402
from ipt_clinic.accounts.models import Role  # noqa: E402
from patients.portal_links import portal_link_create  # noqa: E402
from tests.conftest import login  # noqa: E402
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, UserFactory  # noqa: E402
from tests.portal.links import open_portal  # noqa: E402

# More than any threshold the settings allow by default (5): a statement that would be
# prepared automatically is prepared by then.
REQUESTS = 8


def main() -> None:
    setup_test_environment()  # as pytest-django does: the test client's host is allowed
    clinic = ClinicFactory()
    therapist = UserFactory(clinic=clinic, role=Role.THERAPIST)
    patient = PatientFactory(clinic=clinic, primary_therapist=therapist)
    CourseFactory(patient=patient, therapist=therapist)
    _, url = portal_link_create(patient=patient, by=therapist)

    staff = login(Client(), therapist)
    portal = Client()
    opened = open_portal(portal, url)
    assert opened.status_code == 302, (opened.status_code, opened.content[:300])
    pages = [
        (staff, reverse("patients:detail", args=[patient.pk])),
        (staff, reverse("patients:list")),
        (portal, reverse("portal:home")),
    ]
    for _ in range(REQUESTS):
        for client, page in pages:
            assert client.get(page).status_code == 200, page

    # The outbox's send path (its claim is a fixed statement): rows due, claimed as the
    # dispatcher claims them, each sent by the send task's own function.
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import Notification, NotificationStatus
    from notifications.sending import lease, notification_send
    from sessions.models import TherapySession

    session = TherapySession.objects.create(
        clinic=clinic,
        course=patient.courses.get(),
        therapist=therapist,
        scheduled_start=timezone.now() + timedelta(days=2),
    )
    now = timezone.now()
    due = Notification.objects.bulk_create(
        Notification(
            clinic=clinic, patient=patient, kind="session_reminder", channel="email",
            recipient=patient.email, about_type="session", about_id=session.pk,
            due_at=now, dedupe_key=f"probe:{n}", status=NotificationStatus.SENDING,
            lease_until=now + lease(),
        )
        for n in range(REQUESTS)
    )  # fmt: skip
    assert [notification_send(row.pk) for row in due] == ["sent"] * REQUESTS

    # By hand, on the same connection: prepared when rows.prepares_statements() says so, else
    # left to psycopg's own rule (prepare=None: the connection's threshold), which the
    # settings set to None, never, with binding off.
    prepare = True if rows.prepares_statements() else None
    with psycopg.Cursor(connection.connection) as cursor:
        for _ in range(REQUESTS):
            cursor.execute("SELECT %s::int AS by_hand", [1], prepare=prepare)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    print(json.dumps({"prepared": prepared}))


if __name__ == "__main__":
    main()
