"""A patient whose link stopped working, on their phone: from the expired link's page to a new
link by email, and the new link opens their page (no dead end)."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import PortalLink
from patients.portal_links import portal_link_create
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, UserFactory
from tests.outbox_run import deliver_due

from .conftest import ARTIFACTS, checked

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_kept_out(monkeypatch):
    """The send tasks the dispatcher would publish are kept here (the test sends in-process)."""
    from kombu import Producer

    monkeypatch.setattr(Producer, "publish", lambda self, body, *args, **kwargs: None)


@pytest.fixture(autouse=True)
def _quick_answer(settings):
    settings.PORTAL_LOST_LINK_ANSWER_MS = 50


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_patient_gets_a_new_link_from_the_expired_page(page: Page, broker_kept_out):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside", phone="020 7946 0000")
    therapist = UserFactory(username="alice", clinic=clinic)
    patient = PatientFactory(
        primary_therapist=therapist, first_name="Jamie", email="jamie@example.org"
    )
    CourseFactory(patient=patient)
    old, old_url = portal_link_create(patient=patient, by=therapist)
    PortalLink.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(urlsplit(old_url).path)
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    checked(page)
    _shot(page, "lost-link-expired.png")

    page.get_by_role("link", name="Get a new link").click()
    expect(page.get_by_role("heading", name="Lost your link?")).to_be_visible()
    checked(page)
    # Nothing typed: said in plain words, on the same page.
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_text("Please type your email address or phone number.")).to_be_visible()
    checked(page)
    page.get_by_label("Your email address or mobile phone number").fill(" Jamie@Example.org ")
    _shot(page, "lost-link-form.png")
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("heading", name="Check your messages")).to_be_visible()
    checked(page)
    _shot(page, "lost-link-asked.png")

    assert deliver_due() == ["sent"]
    [message] = mail.outbox
    assert message.to == ["jamie@example.org"]
    [new_url] = re.findall(r"http://\S+/p/[\w-]{40,}/", message.body)
    page.goto(urlsplit(new_url).path)
    checked(page)
    page.get_by_role("button", name="Open my page").click()
    expect(page.get_by_role("navigation", name="Your therapy")).to_be_visible()
    checked(page)

    # The old link stays closed.
    page.goto(urlsplit(old_url).path)
    expect(page.get_by_role("heading", name="We could not open this page")).to_be_visible()
