"""The staff page: invite another clinic admin, send an invitation again when its mail was
lost or its link ran out."""

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.accounts.models import Role, User
from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.conftest import login
from tests.outbox_run import deliver_due

RESEND = reverse("caseload:staff_invite_resend")


def _invite(client: Client, email: str, role: str = Role.THERAPIST):
    return client.post(
        reverse("caseload:staff_invite"),
        {"email": email, "first_name": "Nia", "last_name": "Newman", "role": role},
    )


def _link(message) -> str:
    [path] = re.findall(r"https?://[^/\s]+(/accounts/invite/\S+)", message.body)
    return path


def test_it_invites_another_clinic_admin(admin_client, clinic):
    page = admin_client.get(reverse("caseload:staff")).content.decode()
    assert "Invite a member of staff" in page and 'value="clinic_admin"' in page
    assert _invite(admin_client, "nia@example.org", Role.CLINIC_ADMIN).status_code == 302
    invited = User.objects.get(email="nia@example.org")
    assert (invited.clinic, invited.role, invited.is_active) == (clinic, Role.CLINIC_ADMIN, False)
    assert deliver_due() == ["sent"]
    assert "You are invited as a clinic admin" in mail.outbox[0].body
    event = AuditEvent.objects.get(action=AuditAction.STAFF, object_id=invited.pk)
    assert event.summary == "Invited Nia Newman as clinic admin"


def test_a_therapist_is_invited_as_before(admin_client):
    _invite(admin_client, "nia@example.org")
    assert User.objects.get(email="nia@example.org").role == Role.THERAPIST
    assert deliver_due() == ["sent"]
    assert "clinic admin" not in mail.outbox[0].body


def test_it_sends_an_invitation_again_with_a_fresh_link(admin_client, clinic_admin, settings):
    sent_at = timezone.now()
    with time_machine.travel(sent_at, tick=False):
        _invite(admin_client, "nia@example.org")
        assert deliver_due() == ["sent"]
    invited = User.objects.get(email="nia@example.org")
    expired = _link(mail.outbox[0])
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    later = sent_at + timedelta(days=days + 1)
    with time_machine.travel(later, tick=False):
        assert "does not work" in Client().get(expired).content.decode()
        admin_client = login(Client(), clinic_admin)  # a new day, a new login
        staff_page = admin_client.get(reverse("caseload:staff")).content.decode()
        assert f'aria-label="Send the invitation to {invited.display_name} again"' in staff_page
        response = admin_client.post(RESEND, {"member": invited.pk}, follow=True)
        assert "Invitation queued again for nia@example.org" in response.content.decode()
        assert deliver_due() == ["sent"]
        fresh = _link(mail.outbox[1])
        assert fresh != expired
        assert "Set password" in Client().get(fresh).content.decode()
    event = AuditEvent.objects.filter(action=AuditAction.STAFF, object_id=invited.pk).first()
    assert (event.actor, event.summary) == (clinic_admin, "Sent the invitation to Nia Newman again")


def test_it_does_not_resend_an_accepted_invitation(admin_client, therapist):
    response = admin_client.post(RESEND, {"member": therapist.pk}, follow=True)
    assert "This invitation was accepted or withdrawn: nothing to resend." in (
        response.content.decode()
    )
    assert deliver_due() == []


def test_only_this_clinics_admin_resends_its_invitations(
    admin_client, other_admin_client, therapist_client
):
    _invite(admin_client, "nia@example.org")
    invited = User.objects.get(email="nia@example.org")
    assert other_admin_client.post(RESEND, {"member": invited.pk}).status_code == 404
    assert therapist_client.post(RESEND, {"member": invited.pk}).status_code == 404
    assert admin_client.post(RESEND, {"member": "x"}).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.STAFF, object_id=invited.pk).count() == 1


WITHDRAW = reverse("caseload:staff_invite_withdraw")


def test_a_withdrawn_invitation_stops_its_link_and_its_queued_mail(admin_client, clinic_admin):
    _invite(admin_client, "nia@example.org")
    assert deliver_due() == ["sent"]
    link = _link(mail.outbox[0])
    invited = User.objects.get(email="nia@example.org")
    admin_client.post(RESEND, {"member": invited.pk})  # a second copy waits in the outbox
    staff_page = admin_client.get(reverse("caseload:staff")).content.decode()
    assert f'aria-label="Withdraw the invitation to {invited.display_name}"' in staff_page

    response = admin_client.post(WITHDRAW, {"member": invited.pk}, follow=True)
    page = response.content.decode()
    assert "The invitation to nia@example.org is withdrawn" in page
    assert "Invitation withdrawn" in page and "Send invitation again" not in page
    assert "does not work" in Client().get(link).content.decode()
    assert "sent" not in deliver_due() and len(mail.outbox) == 1
    event = AuditEvent.objects.filter(action=AuditAction.STAFF, object_id=invited.pk).first()
    assert (event.actor, event.summary) == (clinic_admin, "Withdrew the invitation to Nia Newman")
    again = admin_client.post(WITHDRAW, {"member": invited.pk}, follow=True)
    assert "accepted or withdrawn already" in again.content.decode()


def test_a_withdrawn_address_is_invited_again_and_only_the_new_link_works(admin_client):
    _invite(admin_client, "nia@example.org")
    assert deliver_due() == ["sent"]
    old_link = _link(mail.outbox[0])
    invited = User.objects.get(email="nia@example.org")
    admin_client.post(WITHDRAW, {"member": invited.pk})

    assert _invite(admin_client, "nia@example.org", Role.CLINIC_ADMIN).status_code == 302
    invited.refresh_from_db()
    assert (invited.role, invited.deactivated_at, invited.is_active) == (
        Role.CLINIC_ADMIN,
        None,
        False,
    )
    assert deliver_due() == ["sent"]
    new_link = _link(mail.outbox[1])
    assert "does not work" in Client().get(old_link).content.decode()
    assert "Set password" in Client().get(new_link).content.decode()
    assert User.objects.filter(email="nia@example.org").count() == 1


def test_an_accepted_invitation_or_another_clinics_cannot_be_withdrawn(
    admin_client, other_admin_client, therapist_client, therapist
):
    _invite(admin_client, "nia@example.org")
    invited = User.objects.get(email="nia@example.org")
    assert other_admin_client.post(WITHDRAW, {"member": invited.pk}).status_code == 404
    assert therapist_client.post(WITHDRAW, {"member": invited.pk}).status_code == 404
    refused = admin_client.post(WITHDRAW, {"member": therapist.pk}, follow=True)
    assert "accepted or withdrawn already" in refused.content.decode()
    therapist.refresh_from_db()
    assert therapist.is_active and therapist.deactivated_at is None
    invited.refresh_from_db()
    assert invited.deactivated_at is None
