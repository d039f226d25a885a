"""Run by test_send_path_on_postgresql.py in a process of its own, against an empty migrated
PostgreSQL database, with DATABASE_SERVER_SIDE_BINDING as the test sets it. Prints one line of
JSON:

* ``prepared``: every statement prepared on the connection after more reminders than
  DATABASE_PREPARE_THRESHOLD were sent one after another on it, as a worker sends them;
* ``claims``: for a reminder and a staff mail (no patient), the row, patient and clinic the
  claim's hand-written statement returns and those the ORM's claim returns, each taken from
  the same dispatched row at the same moment.

Everything is rolled back at the end, so the next probe starts from the same empty database;
what is prepared belongs to the connection and outlives the transaction.
``python -m tests.notifications.send_path_probe``"""

import json
import os
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.test")
django.setup()

from django.core import mail  # noqa: E402
from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from notifications import sending  # noqa: E402
from notifications.models import Notification  # noqa: E402
from sessions import notices  # noqa: E402
from tests.factories import CourseFactory, SessionFactory  # noqa: E402
from tests.notifications.conftest import claimed  # noqa: E402

# More than any threshold the settings allow by default (5): a statement that would be
# prepared automatically is prepared by then.
SENDS = 8


def main() -> None:
    with transaction.atomic():
        course = CourseFactory()
        found = {"prepared": _prepared_after_sending(course), "claims": _claims(course)}
        transaction.set_rollback(True)
    print(json.dumps(found, cls=DjangoJSONEncoder))


def _reminder(course, hours: int) -> Notification:
    start = timezone.now() + timedelta(hours=hours)
    row = notices.on_session_booked(SessionFactory(course=course, scheduled_start=start))
    Notification.objects.filter(pk=row.pk).update(due_at=timezone.now())
    return claimed(row)


def _prepared_after_sending(course) -> list[str]:
    for n in range(SENDS):
        assert sending.notification_send(_reminder(course, 30 + n).pk) == "sent"
    assert len(mail.outbox) == SENDS
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def _fields(instance) -> dict | None:
    if instance is None:
        return None
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def _claims(course) -> dict:
    staff_mail = claimed(
        Notification.objects.create(
            clinic=course.clinic,
            patient=None,
            kind="staff_invite",
            channel="email",
            recipient="new.colleague@example.org",
            about_type="staff_user",
            about_id=course.therapist_id,
            due_at=timezone.now(),
            dedupe_key="probe:staff_invite",
            payload={"kept": True},
        )
    )
    found = {}
    for name, row in (("reminder", _reminder(course, 60)), ("staff_mail", staff_mail)):
        dispatched = Notification.objects.filter(pk=row.pk).values().get()
        now = timezone.now()
        ways = {}
        for way, claim in (("sql", sending._claim_and_read), ("orm", sending._claim_with_orm)):
            Notification.objects.filter(pk=row.pk).update(**dispatched)
            notification = claim(row.pk, now)
            ways[way] = {
                "notification": _fields(notification),
                "patient": _fields(notification.patient),
                "clinic": _fields(notification.clinic),
            }
        found[name] = ways
    return found


if __name__ == "__main__":
    main()
