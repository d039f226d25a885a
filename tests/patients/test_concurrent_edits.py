"""Two saves of one record opened at the same version, really at once (two connections): the
version check is in the UPDATE, so exactly one goes through and the other is refused."""

import threading

import pytest
from django.db import connection, transaction

from ipt_clinic.editing import StaleEditError, save_versioned
from patients.models import Patient
from patients.services import patient_update
from tests.factories import ClinicFactory, PatientFactory, UserFactory


def _patient() -> Patient:
    clinic = ClinicFactory(slug="concurrent-edits")
    therapist = UserFactory(username="concurrent-editor", clinic=clinic)
    return PatientFactory(primary_therapist=therapist, phone="")


def _run(*targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_concurrent_saves_at_the_same_version_through():
    patient = _patient()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(phone: str):
        try:
            barrier.wait(timeout=10)
            patient_update(
                patient=patient, by=patient.primary_therapist, expected_version=1, phone=phone
            )
            outcomes[phone] = "saved"
        except Exception as exc:  # noqa: BLE001 - the refusal is what is counted
            outcomes[phone] = type(exc).__name__
        finally:
            connection.close()

    _run(lambda: save("+44 7700 900111"), lambda: save("+44 7700 900222"))
    assert sorted(outcomes.values()) == ["StaleEditError", "saved"], outcomes
    [winner] = [phone for phone, outcome in outcomes.items() if outcome == "saved"]
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == (winner, 2)


@pytest.mark.django_db(transaction=True)
def test_it_checks_the_version_again_after_waiting_for_the_other_save():
    # Both read the row at version 1 and neither locks it: the second UPDATE waits for the
    # first transaction and then matches nothing, because the version moved on meanwhile.
    patient = _patient()
    both_read = threading.Barrier(2)
    first_wrote = threading.Event()
    outcomes: dict[str, str] = {}

    def first():
        try:
            with transaction.atomic():
                row = Patient.objects.get(pk=patient.pk)
                both_read.wait(timeout=10)
                row.phone = "+44 7700 900111"
                save_versioned(row, expected_version=row.version, fields=["phone"])
                first_wrote.set()
                threading.Event().wait(0.5)  # keep the transaction open while the other waits
            outcomes["first"] = "saved"
        finally:
            connection.close()

    def second():
        try:
            row = Patient.objects.get(pk=patient.pk)
            both_read.wait(timeout=10)
            first_wrote.wait(timeout=10)
            row.phone = "+44 7700 900222"
            with transaction.atomic():
                save_versioned(row, expected_version=row.version, fields=["phone"])
            outcomes["second"] = "saved"
        except StaleEditError as refused:
            outcomes["second"] = f"refused at {refused.current.version}"
        finally:
            connection.close()

    _run(first, second)
    assert outcomes == {"first": "saved", "second": "refused at 2"}
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("+44 7700 900111", 2)
