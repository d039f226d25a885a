"""The therapist makes, replaces, sends and revokes a patient's portal link."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent
from notifications.models import Notification
from patients.models import PortalLink
from patients.portal_links import hash_token, portal_link_create
from tests.conftest import login

from .conftest import open_portal


def _shown_url(response) -> str:
    return re.search(r'id="portal-link-url" value="([^"]+)"', response.content.decode()).group(1)


def test_it_makes_a_link_and_shows_it_once_with_a_copy_button_and_qr(therapist_client, patient):
    response = therapist_client.post(
        reverse("portal:link_create", kwargs={"patient_id": patient.pk})
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    url = _shown_url(response)
    assert url.startswith("http://127.0.0.1:8000/p/")
    assert 'data-copy="portal-link-url"' in body
    assert 'src="data:image/svg+xml;base64,' in body
    token = urlsplit(url).path.split("/")[2]
    link = PortalLink.objects.get(patient=patient)
    assert link.token_hash == hash_token(token)
    assert link.created_by.username == "alice"
    # The token is not kept: the management page never shows it again.
    page = therapist_client.get(reverse("portal:link_manage", kwargs={"patient_id": patient.pk}))
    assert token not in page.content.decode()
    assert open_portal(Client(), url).status_code == 302


def test_it_replaces_a_link_and_the_old_one_stops_at_once(therapist_client, patient, therapist):
    _, old_url = portal_link_create(patient=patient, by=therapist)
    response = therapist_client.post(
        reverse("portal:link_create", kwargs={"patient_id": patient.pk})
    )
    new_url = _shown_url(response)
    assert open_portal(Client(), old_url).status_code == 404
    assert open_portal(Client(), new_url).status_code == 302
    assert PortalLink.objects.filter(patient=patient, revoked_at__isnull=True).count() == 1


def test_it_revokes_a_link_at_once(therapist_client, patient, therapist):
    link, url = portal_link_create(patient=patient, by=therapist)
    patient_browser = Client()
    open_portal(patient_browser, url)
    response = therapist_client.post(
        reverse("portal:link_revoke", kwargs={"patient_id": patient.pk, "link_id": link.pk})
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert patient_browser.get(reverse("portal:home")).status_code == 404
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=link.pk, summary="Portal link revoked"
    ).exists()


def test_it_shows_when_each_link_was_made_last_used_and_stops(
    therapist_client, patient, therapist, course
):
    link, url = portal_link_create(patient=patient, by=therapist)
    page_url = reverse("portal:link_manage", kwargs={"patient_id": patient.pk})
    assert "Never" in therapist_client.get(page_url).content.decode()

    open_portal(Client(), url)
    link.refresh_from_db()
    course.status = "completed"
    course.ended_at = timezone.now()
    course.save()
    body = therapist_client.get(page_url).content.decode()
    tz = patient.clinic.tz
    assert link.last_used_at.astimezone(tz).strftime("%-d %b %Y %H:%M") in body
    assert (course.ended_at + timedelta(days=30)).astimezone(tz).strftime("%-d %b %Y") in body
    assert "Live" in body and "Revoke now" in body


def test_it_sends_the_link_through_the_outbox_when_asked(therapist_client, patient):
    response = therapist_client.post(
        reverse("portal:link_create", kwargs={"patient_id": patient.pk}), {"send": "1"}
    )
    link = PortalLink.objects.get(patient=patient)
    [notice] = Notification.objects.filter(about_type="portal_link", about_id=link.pk)
    assert notice.kind == "portal_link" and notice.recipient == patient.email
    assert notice.payload["url"] == _shown_url(response)
    assert "queued to send" in response.content.decode()


def test_it_sends_nothing_unless_asked(therapist_client, patient):
    therapist_client.post(reverse("portal:link_create", kwargs={"patient_id": patient.pk}))
    assert not Notification.objects.filter(about_type="portal_link").exists()


def test_it_says_so_when_the_patient_cannot_be_sent_messages(therapist_client, patient):
    patient.reminder_consent = False
    patient.save()
    response = therapist_client.post(
        reverse("portal:link_create", kwargs={"patient_id": patient.pk}), {"send": "1"}
    )
    assert "cannot be sent" in response.content.decode()
    assert not Notification.objects.filter(about_type="portal_link").exists()


def test_it_hides_another_therapists_patient(patient, other_therapist):
    client = login(Client(), other_therapist)
    for name in ("portal:link_manage", "portal:link_create"):
        url = reverse(name, kwargs={"patient_id": patient.pk})
        response = client.post(url) if name.endswith("create") else client.get(url)
        assert response.status_code == 404
    assert not PortalLink.objects.filter(patient=patient).exists()


def test_it_asks_a_password_only_session_for_the_second_factor(patient, therapist):
    client = Client()
    client.force_login(therapist)
    response = client.get(reverse("portal:link_manage", kwargs={"patient_id": patient.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa")
