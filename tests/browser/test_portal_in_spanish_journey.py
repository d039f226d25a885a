"""A Spanish-speaking patient in their portal on a phone: the link's page in the browser's
language, then every page in the language on their record, with the right <html lang> for
screen readers, axe on each page, nothing too wide for 390 px."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from patients.models import Language
from patients.portal_links import portal_link_create
from phases.models import Phase, RelapsePreventionPlan
from tests.factories import (
    AssignmentFactory,
    ClinicFactory,
    CourseFactory,
    PatientFactory,
    RelationshipFactory,
    SessionFactory,
    UserFactory,
)

from .conftest import checked

pytestmark = pytest.mark.django_db(transaction=True)


def _spanish_patient_near_the_end_of_a_course() -> str:
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    therapist = UserFactory(username="alice", clinic=clinic, role=Role.THERAPIST)
    patient = PatientFactory(
        primary_therapist=therapist,
        first_name="Lucía",
        last_name="Martín",
        language=Language.SPANISH,
    )
    course = CourseFactory(patient=patient, phase=Phase.TERMINATION, planned_sessions=12)
    SessionFactory(course=course)
    AssignmentFactory(course=course, title="Llamar a Marta el domingo")
    plan = RelapsePreventionPlan.objects.create(
        clinic=clinic,
        course=course,
        warning_signs="Quedarme en la cama.",
        coping_strategies="Un paseo cada mañana.",
        if_symptoms_return="Llamar a la clínica.",
    )
    plan.supports.add(RelationshipFactory(patient=patient, name="Marta"))
    _link, url = portal_link_create(patient=patient, by=therapist)
    return urlsplit(url).path


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


def test_a_spanish_patient_reads_the_portal_in_spanish_on_a_phone(browser, live_server, page: Page):
    link_path = _spanish_patient_near_the_end_of_a_course()
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_extra_http_headers({"Accept-Language": "es-ES,es;q=0.9"})

    page.goto(link_path)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Su página personal")).to_be_visible()
    checked(page)
    page.get_by_role("button", name="Abrir mi página").click()

    expect(page.locator("html")).to_have_attribute("lang", "es")
    checked(page)
    _fits(page)
    nav = page.get_by_role("navigation", name="Su terapia")
    nav.get_by_role("link", name="Citas").click()
    expect(page.get_by_role("heading", name="Sus citas")).to_be_visible()
    expect(page.get_by_text("Próxima: sesión 1 de 12")).to_be_visible()
    checked(page)
    _fits(page)

    page.goto("/p/plan/")
    expect(page.get_by_role("heading", name="Su plan para mantenerse bien")).to_be_visible()
    checked(page)
    _fits(page)

    page.get_by_role("button", name="Salir (en un dispositivo compartido)").click()
    expect(page.get_by_role("heading", name="Ha salido")).to_be_visible()
    checked(page)
