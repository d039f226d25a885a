"""The operations page lists the staff mails that could not be delivered (an invitation whose
every attempt failed) and sends one again; another clinic's admin cannot."""

import pytest
from django.core import mail
from django.urls import reverse

from ipt_clinic.accounts.models import Role
from ipt_clinic.accounts.services import staff_invite
from notifications import sending as notifications
from notifications.models import Notification
from tests.notifications.conftest import smtp_to
from tests.notifications.harness import free_port
from tests.outbox_run import deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_invitation(clinic, clinic_admin, settings) -> Notification:
    """Nia's invitation, given up after its one attempt: the mail server was down."""
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    mailers = settings.MAILERS
    smtp_to(settings, free_port())  # nothing listens there
    staff_invite(
        clinic=clinic,
        email="nia@example.org",
        first_name="Nia",
        last_name="Newman",
        role=Role.THERAPIST,
        by=clinic_admin,
    )
    assert deliver_due() == ["failed"]
    notifications._drop_mail_connection()
    settings.MAILERS = mailers  # the mail server is back (the test's mailbox)
    return Notification.objects.get(kind="staff_invite")


def test_it_lists_a_failed_invitation_and_sends_it_again(admin_client, failed_invitation):
    page = admin_client.get(reverse("caseload:operations")).content.decode()
    assert "Staff mail not delivered" in page
    assert "Staff invitation" in page and "nia@example.org" in page
    assert "ConnectionRefusedError" in page

    response = admin_client.post(
        reverse("caseload:operations_resend"), {"ids": [failed_invitation.pk]}, follow=True
    )
    assert response.redirect_chain == [(reverse("caseload:operations"), 302)]
    assert "1 staff mail(s) queued to be sent again" in response.content.decode()
    assert deliver_due() == ["sent"]
    assert [message.to for message in mail.outbox] == [["nia@example.org"]]


def test_it_resends_nothing_for_another_clinics_admin(other_admin_client, failed_invitation):
    other_admin_client.post(reverse("caseload:operations_resend"), {"ids": [failed_invitation.pk]})
    failed_invitation.refresh_from_db()
    assert failed_invitation.status == "failed"
    assert (
        "nia@example.org"
        not in other_admin_client.get(reverse("caseload:operations")).content.decode()
    )
