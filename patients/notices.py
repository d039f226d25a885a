"""The patient's side of every notice: whom it may go to, and the portal link's own notice.

The rules (checked when a notice is queued and again when it is sent): the patient is
active, has consented to reminders and has a contact on file for their preferred channel.
"""

from django.utils import timezone

from notifications import outbox, registry
from notifications.models import Notification, NotificationChannel
from notifications.registry import Delivery, NothingToSend

from .models import Channel, Patient, PatientStatus, PortalLink

PORTAL_LINK = "portal_link"
# A new link the patient asked for on the portal's "Lost your link?" page: it goes to the
# contact on file they typed, whatever their preferred channel.
PORTAL_LINK_ASKED = "portal_link_asked"


def contact_for(patient: Patient) -> tuple[str, str] | None:
    """``(channel, recipient)`` if the patient may be sent notices, else None."""
    if not patient.reminder_consent or patient.status != PatientStatus.ACTIVE:
        return None
    if patient.preferred_channel == Channel.EMAIL and patient.email:
        return NotificationChannel.EMAIL, patient.email
    if patient.preferred_channel == Channel.SMS and patient.phone:
        return NotificationChannel.SMS, patient.phone
    return None


def notice_put(
    *, patient: Patient, kind: str, about_type: str, about_id: int, intended, payload=None
):
    """Queue one notice to ``patient`` by their preferred channel (None when they may not be
    sent notices). Call inside the transaction of the change that causes it."""
    contact = contact_for(patient)
    if contact is None:
        return None
    channel, recipient = contact
    return outbox.outbox_put(
        patient=patient,
        channel=channel,
        recipient=recipient,
        kind=kind,
        about_type=about_type,
        about_id=about_id,
        intended=intended,
        payload=payload,
    )


def require_active(notification: Notification) -> None:
    """At send time: the patient is still in treatment (raises ``NothingToSend``)."""
    if notification.patient.status != PatientStatus.ACTIVE:
        raise NothingToSend("Patient is no longer active.")


def recipient_now(notification: Notification) -> str:
    """At send time: the contact on file now for the row's channel (raises
    ``NothingToSend`` when consent or the contact is gone or the channel changed)."""
    contact = contact_for(notification.patient)
    if contact is None:
        raise NothingToSend("No consent to reminders or no contact for the preferred channel.")
    if contact[0] != notification.channel:
        raise NothingToSend("The patient's preferred channel changed.")
    return contact[1]


def on_portal_link_sent(link: PortalLink, url: str) -> Notification | None:
    """Called when staff choose "send the link" for a portal link.

    The link's token exists nowhere else in plain text, so the URL is kept in the row's
    payload only until the row reaches a final state (sent, failed, cancelled), then wiped.
    Asking twice within the same minute sends it once.
    """
    patient = Patient.objects.select_related("clinic").get(pk=link.patient_id)
    now = timezone.now().replace(second=0, microsecond=0)
    return notice_put(
        patient=patient,
        kind=PORTAL_LINK,
        about_type="portal_link",
        about_id=link.pk,
        intended=now,
        payload={"url": url},
    )


def _compose_portal_link(notification: Notification, now) -> Delivery:
    require_active(notification)
    recipient = recipient_now(notification)
    url = notification.payload.get("url")
    if not url:
        raise NothingToSend("The link is no longer kept; send a new one from the patient's page.")
    return Delivery(recipient=recipient, first_name=notification.patient.first_name, url=url)


def on_portal_link_asked(link: PortalLink, url: str, *, channel: str) -> Notification:
    """Queue the new link the patient asked for to the contact on file of ``channel`` (email:
    their email address, SMS: their phone), due now; the caller matched that contact. A text
    message does not wait out the clinic's quiet hours: the patient is waiting for it.

    As with ``on_portal_link_sent``, the URL stays in the row's payload only until the row
    reaches a final state. One row per link (the link is in the row's unique key)."""
    patient = Patient.objects.select_related("clinic").get(pk=link.patient_id)
    recipient = patient.email if channel == NotificationChannel.EMAIL else patient.phone
    return outbox.outbox_put(
        patient=patient,
        channel=channel,
        recipient=recipient,
        kind=PORTAL_LINK_ASKED,
        about_type="portal_link",
        about_id=link.pk,
        intended=timezone.now(),
        payload={"url": url},
        quiet_hours=False,
    )


def _compose_portal_link_asked(notification: Notification, now) -> Delivery:
    require_active(notification)
    patient = notification.patient
    on_file = patient.email if notification.channel == NotificationChannel.EMAIL else patient.phone
    if on_file != notification.recipient:
        raise NothingToSend("The contact on file changed since the link was asked for.")
    link = PortalLink.objects.filter(pk=notification.about_id).first()
    if link is None or link.revoked_at is not None:
        raise NothingToSend("This link was replaced or revoked before it could be sent.")
    url = notification.payload.get("url")
    if not url:
        raise NothingToSend("The link is no longer kept; the patient can ask for a new one.")
    return Delivery(recipient=on_file, first_name=patient.first_name, url=url)


def register() -> None:
    registry.register(
        name=PORTAL_LINK,
        label="Portal link",
        about_type="portal_link",
        compose=_compose_portal_link,
    )
    registry.register(
        name=PORTAL_LINK_ASKED,
        label="Portal link asked for by the patient",
        about_type="portal_link",
        compose=_compose_portal_link_asked,
        quiet_hours=False,
    )
