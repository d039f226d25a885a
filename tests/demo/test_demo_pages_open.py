"""The demo is what `make run` shows: every page of every hand-written demo patient opens for
their therapist, the clinic admins' pages open, and the portal opens for a patient in treatment."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from ipt_clinic.accounts.models import User
from patients.models import Patient
from sessions.models import Measure
from tests.conftest import login
from tests.portal.links import open_portal


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def _session_sample(course):
    """The latest attended session, every missed or cancelled one, and the coming ones."""
    sessions = list(course.sessions.order_by("scheduled_start"))
    attended = [s for s in sessions if s.status == "attended"]
    return attended[-1:] + [s for s in sessions if s.status != "attended"]


def test_it_opens_every_demo_patients_pages_for_their_therapist(demo):
    patients = Patient.objects.select_related("primary_therapist").prefetch_related("courses")
    assert patients.count() == 33
    for patient in patients:
        client = login(Client(), patient.primary_therapist)
        urls = [
            reverse("patients:detail", kwargs={"patient_id": patient.pk}),
            reverse("patients:circle", kwargs={"patient_id": patient.pk}),
        ]
        for course in patient.courses.all():
            urls.append(reverse("phases:course", kwargs={"course_id": course.pk}))
            urls.append(reverse("therapy:course_sessions", kwargs={"course_id": course.pk}))
            urls += [
                reverse("therapy:session", kwargs={"pk": s.pk}) for s in _session_sample(course)
            ]
        for url in urls:
            assert client.get(url).status_code == 200, f"{patient.record_number}: {url}"


def test_it_opens_the_home_and_admin_pages_of_the_demo_staff(demo):
    for username, names in (
        ("north.anna", ["caseload:therapist_home", "patients:list", "therapy:week"]),
        ("south.dev", ["caseload:therapist_home", "patients:list", "therapy:week"]),
        ("north.admin", ["caseload:dashboard", "caseload:outcomes", "caseload:operations"]),
        ("south.admin", ["caseload:dashboard", "caseload:outcomes", "caseload:operations"]),
    ):
        client = login(Client(), User.objects.get(username=username))
        for name in names:
            assert client.get(reverse(name)).status_code == 200, f"{username}: {name}"


def test_it_opens_the_portal_of_the_demo_patient_with_homework_and_a_plan(demo):
    output = StringIO()
    call_command("seed_demo", stdout=output)
    url = next(line for line in output.getvalue().splitlines() if line.startswith("Portal link"))
    path = "/" + url.split(": ", 1)[1].split("://", 1)[1].split("/", 1)[1]
    portal = Client()
    assert open_portal(portal, path).status_code == 302  # the landing page's button

    homework = portal.get(reverse("portal:homework"))
    plan = portal.get(reverse("portal:plan"))
    sessions = portal.get(reverse("portal:sessions"))

    assert homework.status_code == plan.status_code == sessions.status_code == 200
    margaret = Patient.objects.get(record_number="NG-0001")
    course = margaret.courses.get()
    to_do = course.assignments.get(status="assigned")
    assert escape(to_do.title) in homework.content.decode()
    assert escape(course.relapse_plan.warning_signs) in plan.content.decode()

    # "My progress" draws her scores over the course, from 19 at the start to 7 (the last
    # three she filled in herself), and the one before her last session is due (the last is
    # more than 14 days old by then).
    progress = portal.get(reverse("portal:progress")).content.decode()
    phq9 = Measure.objects.filter(course=course, instrument="phq9", superseded_at__isnull=True)
    assert f"Mood (PHQ-9): {phq9.count()} scores, first 19, latest 7." in progress
    assert "Due before your next session" in portal.get(reverse("portal:home")).content.decode()


def test_the_demo_patient_reads_what_she_agreed_and_about_ipt(demo):
    output = StringIO()
    call_command("seed_demo", stdout=output)
    url = next(line for line in output.getvalue().splitlines() if line.startswith("Portal link"))
    path = "/" + url.split(": ", 1)[1].split("://", 1)[1].split("/", 1)[1]
    portal = Client()
    assert open_portal(portal, path).status_code == 302

    agreed = portal.get(reverse("portal:agreed"))
    about = portal.get(reverse("portal:about_ipt"))
    assert agreed.status_code == about.status_code == 200
    course = Patient.objects.get(record_number="NG-0001").courses.get()
    body = agreed.content.decode()
    shared = course.formulation_shares.get(withdrawn_at__isnull=True)
    assert escape(shared.text.split("\n")[0]) in body
    assert "You said you agree on" in body
    assert "Grieving for Frank" in body
    assert f"{course.sessions_attended} of {course.planned_sessions} sessions held" in body
    assert escape(course.formulation) not in body
    assert "The end: keeping what you have gained" in about.content.decode()
