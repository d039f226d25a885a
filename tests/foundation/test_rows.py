"""ipt_clinic.rows turns a row of a fixed statement into the instances the ORM would give: the
same value of the same type in every field (aware datetimes, real booleans, dates, times, JSON)
on SQLite and on PostgreSQL, and no instance for the empty side of an outer join."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ipt_clinic import rows
from ipt_clinic.accounts.models import Clinic, User
from ipt_clinic.audit.models import AuditEvent
from ipt_clinic.audit.services import audit_record
from patients.models import Patient, PortalLink

pytestmark = pytest.mark.django_db


def _same_values(loaded, expected) -> None:
    assert type(loaded) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        got, want = getattr(loaded, field.attname), getattr(expected, field.attname)
        assert (got, type(got)) == (want, type(want)), field.name


def _link_statement() -> tuple[str, list[rows.Columns]]:
    quote = connection.ops.quote_name
    parts = [
        rows.Columns(PortalLink, "l"),
        rows.Columns(Patient, "p"),
        rows.Columns(Clinic, "c"),
        rows.Columns(User, "u"),
    ]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {quote(PortalLink._meta.db_table)} l"
        f" JOIN {quote(Patient._meta.db_table)} p ON p.{quote('id')} = l.{quote('patient_id')}"
        f" JOIN {quote(Clinic._meta.db_table)} c ON c.{quote('id')} = p.{quote('clinic_id')}"
        f" LEFT JOIN {quote(User._meta.db_table)} u ON u.{quote('id')} = l.{quote('created_by_id')}"
        f" WHERE l.{quote('id')} = %s"
    )
    return sql, parts


def _read(link_id: int) -> list:
    sql, parts = _link_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [link_id])
        return rows.instances(cursor.fetchone(), parts)


def test_a_joined_row_gives_the_instances_the_orm_gives(patient, therapist):
    now = timezone.now()
    Patient.objects.filter(pk=patient.pk).update(
        date_of_birth=date(1980, 2, 29), reminder_consent=True, reminder_consent_at=now
    )
    Clinic.objects.filter(pk=patient.clinic_id).update(
        quiet_hours_start=time(21, 30), quiet_hours_end=time(7, 0)
    )
    link = PortalLink.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        token_hash="a" * 64,
        created_by=therapist,
        expires_at=now + timedelta(days=30),
    )

    found_link, found_patient, found_clinic, found_user = _read(link.pk)

    expected = PortalLink.objects.select_related("patient__clinic", "created_by").get(pk=link.pk)
    _same_values(found_link, expected)
    _same_values(found_patient, expected.patient)
    _same_values(found_clinic, expected.patient.clinic)
    _same_values(found_user, expected.created_by)
    # The values a backend hands back in its own form: aware datetimes, booleans, dates.
    assert found_link.expires_at.tzinfo is not None
    assert found_patient.reminder_consent is True
    assert found_patient.date_of_birth == date(1980, 2, 29)
    assert found_clinic.quiet_hours_start == time(21, 30)


def test_the_empty_side_of_an_outer_join_is_no_instance(patient):
    link = PortalLink.objects.create(
        clinic_id=patient.clinic_id, patient=patient, token_hash="b" * 64, created_by=None
    )
    found_link, _, _, found_user = _read(link.pk)
    assert found_user is None
    assert found_link.created_by_id is None


def test_a_json_column_comes_back_as_the_orm_reads_it(patient, therapist):
    changes = {"phase": ["initial", "social"], "sessions": 12, "note": 'naïve "quoted"'}
    audit_record(
        action="update", clinic_id=patient.clinic_id, actor=therapist, patient_id=patient.pk,
        target=patient, summary="Changed", changes=changes,
    )  # fmt: skip
    expected = AuditEvent.objects.get()
    part = rows.Columns(AuditEvent, "e")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {part.sql} FROM {quote(AuditEvent._meta.db_table)} e WHERE e.id = %s",  # noqa: S608 - names from the model  # nosec B608
            [expected.pk],
        )
        (event,) = rows.instances(cursor.fetchone(), [part])
    _same_values(event, expected)
    assert event.changes == changes


def test_named_columns_leave_the_others_deferred_as_only_does(patient):
    part = rows.Columns(Patient, "p", names=("first_name", "clinic"))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {part.sql} FROM {quote(Patient._meta.db_table)} p WHERE p.id = %s",  # noqa: S608 - names from the model  # nosec B608
            [patient.pk],
        )
        (found,) = rows.instances(cursor.fetchone(), [part])
    expected = Patient.objects.only("first_name", "clinic").get(pk=patient.pk)
    assert found.get_deferred_fields() == expected.get_deferred_fields()
    assert (found.pk, found.first_name, found.clinic_id) == (
        expected.pk,
        expected.first_name,
        expected.clinic_id,
    )
