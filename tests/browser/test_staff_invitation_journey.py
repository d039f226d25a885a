"""A clinic admin invites a therapist while the mail server is down: the page says the
invitation is queued, not sent; when every attempt has failed, the Operations page lists it
and one click sends it again, and it arrives once the server is back. Three fields and a click
to invite; one click to send again."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from notifications.content import message_id
from notifications.models import Notification
from tests.factories import ClinicFactory
from tests.notifications.conftest import smtp_to
from tests.notifications.harness import SmtpReceiver
from tests.outbox_run import deliver_due

from .conftest import ARTIFACTS, checked
from .helpers import log_in, staff_with_authenticator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_kept_out(monkeypatch):
    """The send tasks the dispatcher would publish are kept here (the test sends in-process)."""
    from kombu import Producer

    monkeypatch.setattr(Producer, "publish", lambda self, body, *args, **kwargs: None)


def test_it_queues_an_invitation_and_sends_it_again_from_operations(
    page: Page, settings, broker_kept_out
):
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    _admin, device = staff_with_authenticator(
        username="carol", clinic=clinic, role=Role.CLINIC_ADMIN, first_name="Carol"
    )
    mail_server = SmtpReceiver()  # not started: the mail server is down
    smtp_to(settings, mail_server.port)
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, "carol", device)

    page.goto(reverse("caseload:staff"))
    page.get_by_label("Email").fill("nia@example.org")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Newman")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation queued for nia@example.org")).to_be_visible()
    checked(page)

    assert deliver_due() == ["failed"]
    page.goto(reverse("caseload:operations"))
    row = page.get_by_role("row", name="nia@example.org")
    expect(row).to_contain_text("Staff invitation")
    expect(row).to_contain_text("ConnectionRefusedError")
    checked(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "operations-staff-mail.png"), full_page=True)

    mail_server.start()
    try:
        row.get_by_role("button", name="Send again").click()
        expect(page.get_by_text("1 staff mail(s) queued to be sent again")).to_be_visible()
        checked(page)
        assert deliver_due() == ["sent"]
        invitation = Notification.objects.get(kind="staff_invite")
        assert dict(mail_server.accepted) == {message_id(invitation): 1}
    finally:
        mail_server.stop()
