"""--scale N adds about 200*N generated patients, with the large and the small clinic the
dashboard benchmark needs; a larger scale adds only the patients that are missing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from patients.models import Patient
from sessions.models import Measure, TherapySession


def _generated(slug=None) -> int:
    patients = Patient.objects.filter(record_number__contains="-B")
    if slug:
        patients = patients.filter(clinic__slug=slug)
    return patients.count()


@pytest.mark.django_db
def test_it_doubles_the_generated_patients_from_scale_1_to_scale_2():
    call_command("seed_demo", scale=1, stdout=StringIO())
    at_one = _generated()
    sessions_at_one = TherapySession.objects.count()
    call_command("seed_demo", scale=2, stdout=StringIO())
    at_two = _generated()

    assert at_one == 250  # Northgate 50, Southbank 150, Lakeside 50 (fixed)
    assert at_two == 450  # Northgate 100, Southbank 300, Lakeside still 50
    assert _generated("demo-northgate") == 100
    assert _generated("demo-lakeside") == 50
    assert at_two - 50 == 2 * (at_one - 50)
    assert 1.6 < TherapySession.objects.count() / sessions_at_one < 2.0
    assert Patient.objects.count() == 33 + at_two


@pytest.mark.django_db
def test_it_adds_nothing_when_run_again_at_the_same_scale():
    call_command("seed_demo", scale=1, stdout=StringIO())
    counts = (Patient.objects.count(), TherapySession.objects.count(), Measure.objects.count())
    output = StringIO()
    call_command("seed_demo", scale=1, stdout=output)

    assert (
        Patient.objects.count(),
        TherapySession.objects.count(),
        Measure.objects.count(),
    ) == counts
    assert "nothing added" in output.getvalue()


@pytest.mark.django_db
def test_it_makes_the_same_generated_patient_whatever_the_order_of_runs():
    with transaction.atomic():
        call_command("seed_demo", scale=2, stdout=StringIO())
        direct = _story_of("SB-B000201")
        transaction.set_rollback(True)
    assert not Patient.objects.exists()

    call_command("seed_demo", scale=1, stdout=StringIO())
    call_command("seed_demo", scale=2, stdout=StringIO())

    assert _story_of("SB-B000201") == direct


def _story_of(record_number: str) -> dict:
    patient = Patient.objects.get(record_number=record_number)
    course = patient.courses.get()
    return {
        "name": (patient.first_name, patient.last_name),
        "outcome": (course.phase, course.status),
        "scores": list(course.measures.order_by("taken_at", "instrument").values_list("total", flat=True)),
        "sessions": list(course.sessions.values_list("scheduled_start", "status")),
    }  # fmt: skip
