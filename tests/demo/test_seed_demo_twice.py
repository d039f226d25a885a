"""seed_demo is idempotent: a second run finds everything there and adds nothing."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demo.clinics import DEMO_PASSWORD
from ipt_clinic.accounts.models import User
from patients.models import Patient
from tests.portal.links import open_portal


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def _counts() -> dict:
    return {
        model._meta.label: model.objects.count()
        for app in ("accounts", "patients", "phases", "therapy")
        for model in apps.get_app_config(app).get_models()
    }


def _snapshot() -> dict:
    maya = Patient.objects.get(record_number="NG-0001", clinic__slug="demo-northgate")
    course = maya.courses.get()
    return {
        "patients": list(
            Patient.objects.order_by("clinic__slug", "record_number").values_list(
                "record_number", "first_name", "last_name", "primary_therapist__username", "status"
            )
        ),
        "course": (course.phase, course.status, course.start_date, course.baseline_phq9, course.latest_phq9),
        "scores": list(course.measures.order_by("taken_at", "instrument").values_list("instrument", "total", "answers")),
        "sessions": list(course.sessions.values_list("scheduled_start", "status", "phase")),
    }  # fmt: skip


@pytest.mark.django_db
def test_it_gives_the_same_data_when_run_twice():
    first_output = _seed()
    counts, snapshot = _counts(), _snapshot()
    second_output = _seed()

    assert _counts() == counts
    assert _snapshot() == snapshot
    assert "nothing added" in second_output
    assert counts["patients.Patient"] == 33
    assert counts["accounts.Clinic"] == 2
    # The same working portal link is printed each time.
    link_line = [line for line in first_output.splitlines() if line.startswith("Portal link")]
    assert link_line and link_line == [
        line for line in second_output.splitlines() if line.startswith("Portal link")
    ]


@pytest.mark.django_db
def test_it_prints_the_logins_with_a_working_password_and_portal_link():
    output = _seed()

    assert f"password for all: {DEMO_PASSWORD}" in output
    for username in (
        "north.admin",
        "north.anna",
        "north.ben",
        "south.admin",
        "south.chloe",
        "south.dev",
    ):
        assert username in output
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    url = next(line for line in output.splitlines() if line.startswith("Portal link")).split(
        ": ", 1
    )[1]
    path = url.split("://", 1)[1].split("/", 1)[1]
    portal = Client()
    assert open_portal(portal, f"/{path}").status_code == 302  # the landing page's button
    response = portal.get(reverse("portal:home"))
    assert response.status_code == 200
    assert b"Margaret" in response.content


@pytest.mark.django_db
def test_it_has_two_clinics_each_with_an_admin_and_two_therapists():
    _seed()

    for slug in ("demo-northgate", "demo-southbank"):
        staff = User.objects.filter(clinic__slug=slug)
        assert staff.filter(role="clinic_admin").count() == 1
        assert staff.filter(role="therapist").count() >= 2
