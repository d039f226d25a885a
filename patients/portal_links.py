"""Portal links: a patient's personal way into the portal, without an account.

The token is ``secrets.token_urlsafe(32)`` (256 bits) and leaves this module exactly once, in
the URL handed back by ``portal_link_create``; the database keeps only its SHA-256. A patient
has at most one live link: making a new one revokes the others.

A link stops working when it is revoked (at once: 404), when ``expires_at`` has passed, or
when the patient's latest course ended more than ``PORTAL_LINK_DAYS_AFTER_COURSE`` days ago
(expired: the portal answers 410 and asks the patient to contact the clinic).
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record

from .models import Patient, PatientStatus, PortalLink

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 64


class PortalLinkInvalid(Exception):
    """Unknown, tampered or revoked: the caller answers 404. ``link`` is the revoked link, if
    the token was a real one (so its use can be audited against the patient)."""

    def __init__(self, link: PortalLink | None = None):
        super().__init__("No such portal link.")
        self.link = link


class PortalLinkExpired(Exception):
    """A real link past its time: the caller answers 410 and sends the patient to the clinic."""

    def __init__(self, link: PortalLink):
        super().__init__("This portal link has expired.")
        self.link = link


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_link_url(token: str) -> str:
    """The full address a patient opens (built from ``settings.SITE_URL``)."""
    return f"{settings.SITE_URL}{reverse('portal:exchange', kwargs={'token': token})}"


def portal_link_expiry(link: PortalLink, latest_course=None) -> datetime | None:
    """When the link stops (or stopped) working, or None while the course runs.

    ``latest_course`` saves a query when the caller already holds the patient's latest course.
    """
    if latest_course is None:
        # Through the reverse relation: patients sits below phases and never imports it.
        latest_course = link.patient.courses.order_by("-start_date", "-id").first()
    candidates = []
    if link.expires_at is not None:
        candidates.append(link.expires_at)
    if latest_course is not None and latest_course.ended_at is not None:
        candidates.append(
            latest_course.ended_at + timedelta(days=settings.PORTAL_LINK_DAYS_AFTER_COURSE)
        )
    return min(candidates) if candidates else None


def portal_link_is_expired(link: PortalLink, *, now=None) -> bool:
    now = now or timezone.now()
    if link.patient.status == PatientStatus.ARCHIVED:
        return True
    expiry = portal_link_expiry(link)
    return expiry is not None and expiry <= now


@transaction.atomic
def portal_link_create(
    *, patient: Patient, by, rotated: bool = False, token: str | None = None, request=None
) -> tuple[PortalLink, str]:
    """Make a new link for ``patient`` and revoke any live one. Returns (link, full URL).

    The URL is the only place the token exists: show it or send it, never store it.
    ``token``: one the caller derived itself (the demo's, from SECRET_KEY, so that each run
    prints the same address); by default a new random one.
    """
    now = timezone.now()
    # Lock the patient row so two therapists rotating at once leave exactly one live link.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    revoked = list(
        PortalLink.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, revoked_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if revoked:
        PortalLink.objects.filter(pk__in=revoked).update(revoked_at=now)
    token = token or secrets.token_urlsafe(32)
    link = PortalLink(
        clinic_id=patient.clinic_id,
        patient=patient,
        token_hash=hash_token(token),
        created_by=by,
    )
    link.full_clean(exclude=["created_by"])  # None when the system makes it (e.g. a seeder)
    link.save()
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=patient.clinic_id,
        actor=by,
        actor_kind="staff" if by is not None else "system",
        patient_id=patient.pk,
        target=link,
        summary=("Portal link replaced" if (rotated or revoked) else "Portal link created")
        + (f"; revoked link(s) {', '.join(map(str, revoked))}" if revoked else ""),
        request=request,
    )
    return link, portal_link_url(token)


def portal_link_rotate(*, patient: Patient, by, request=None) -> tuple[PortalLink, str]:
    """A new link in place of the old ones (which stop working at once)."""
    return portal_link_create(patient=patient, by=by, rotated=True, request=request)


@transaction.atomic
def portal_link_revoke(*, link: PortalLink, by, request=None) -> PortalLink:
    """Stop a link at once. Revoking a revoked link changes nothing."""
    link = PortalLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=link.clinic_id,
        actor=by,
        patient_id=link.patient_id,
        target=link,
        summary="Portal link revoked",
        changes={"revoked_at": [None, link.revoked_at.isoformat()]},
        request=request,
    )
    return link


def portal_link_verify(token: str) -> PortalLink:
    """The live link for ``token``. Raises PortalLinkInvalid (unknown, tampered, revoked)
    or PortalLinkExpired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise PortalLinkInvalid
    link = (
        PortalLink.objects.select_related("patient", "patient__clinic")
        .filter(token_hash=hash_token(token))
        .first()
    )
    return portal_link_check(link)


def portal_link_check(link: PortalLink | None) -> PortalLink:
    """Re-check a link already found (each portal request does)."""
    if link is None:
        raise PortalLinkInvalid
    if link.revoked_at is not None:
        raise PortalLinkInvalid(link)
    if portal_link_is_expired(link):
        raise PortalLinkExpired(link)
    return link


def portal_link_touch(link: PortalLink) -> None:
    """Record a use, at most once a minute (keeps every portal request from writing)."""
    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at > timedelta(minutes=1):
        PortalLink.objects.filter(pk=link.pk).update(last_used_at=now)
        link.last_used_at = now
