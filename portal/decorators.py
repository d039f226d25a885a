"""The portal's gatekeepers.

``portal_response`` gives every portal answer its headers (no referrer, no caching, no
indexing) and turns a 404 into the portal's own page. ``portal_page`` also requires a portal
session and re-checks its link on every request: a revoked link ends the session at once
(404), an expired one ends it with the friendly 410 page. The link, its patient, their clinic
and when their latest course ended (what the expiry reads) come in one query.

Language: staff pages stay in the clinic's language; the portal follows the patient. Every
portal answer is written inside ``translation.override`` (restored when the answer is made,
also on an error, so a staff request served next by the same thread is untouched): the
patient's own language (their record) once the portal session is known, and before that (the
landing page, an expired or unknown link, the throttle's page) the browser's Accept-Language
among settings.LANGUAGES.

``staff_view`` is for the therapist-side link pages that live under /p/: the MFA middleware
lets /p/ through for patients, so these views insist on a verified staff session themselves.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation

from ipt_clinic.audit.services import AuditAction, audit_record
from patients.models import PatientStatus, PortalLink
from patients.portal_links import (
    PortalLinkExpired,
    PortalLinkInvalid,
    portal_link_expiry,
    portal_link_touch,
)
from phases.models import TreatmentCourse

PORTAL_LINK_SESSION_KEY = "portal_link_id"
# A portal session lasts at most this long; the link is needed again afterwards.
PORTAL_SESSION_SECONDS = 4 * 60 * 60


def portal_headers(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def portal_not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


def portal_expired(request: HttpRequest, link: PortalLink) -> HttpResponse:
    return render(request, "portal/expired.html", {"clinic": link.patient.clinic}, status=410)


def browser_language(request: HttpRequest) -> str:
    """The browser's preferred language among the portal's (settings.LANGUAGES), else the
    default: for the pages shown before the portal knows who the patient is."""
    return translation.get_language_from_request(request)


def portal_response(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override(browser_language(request)):
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                response = portal_not_found(request)
        return portal_headers(response)

    return wrapper


# Every portal request's one read of its link: the link with its patient and their clinic,
# and ``latest_course_ended_at``, when the patient's latest course ended (None while it runs
# or when there is none). Built once, as a class-based view's ``queryset`` is: each request
# takes a copy through ``get()`` and reuses the subquery already resolved (in one process on
# PostgreSQL, 1.2 against 1.7 ms of CPU per read, resolving it each time).
_LINKS = PortalLink.objects.select_related("patient__clinic").annotate(
    latest_course_ended_at=Subquery(
        TreatmentCourse.objects.filter(
            clinic_id=OuterRef("clinic_id"), patient_id=OuterRef("patient_id")
        )
        .order_by("-start_date", "-id")
        .values("ended_at")[:1]
    )
)


def current_portal_link(request: HttpRequest) -> PortalLink | None:
    """The link this browser's portal session was opened with (with its patient and their
    clinic, and ``latest_course_ended_at``), in one query, un-checked."""
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return None  # a staff session never carries a portal identity
    link_id = request.session.get(PORTAL_LINK_SESSION_KEY)
    if not isinstance(link_id, int):
        return None
    try:
        return _LINKS.get(pk=link_id)
    except PortalLink.DoesNotExist:
        return None


def portal_link_recheck(link: PortalLink) -> None:
    """``patients.portal_links.portal_link_check`` for a link ``current_portal_link`` read, its
    rules in its order: revoked raises PortalLinkInvalid; the patient archived, or the link
    past ``portal_link_expiry`` (its own end, or the grace period after the latest course
    ended), raises PortalLinkExpired. The latest course is the end date the link's query read,
    not a query of its own (``tests/portal/test_link_recheck.py`` holds the two to the same
    answers)."""
    if link.revoked_at is not None:
        raise PortalLinkInvalid(link)
    if link.patient.status == PatientStatus.ARCHIVED:
        raise PortalLinkExpired(link)
    # The expiry reads only the latest course's end: an unsaved course carrying it is that
    # course as far as the expiry goes (and with no course, ends nothing, as no course does).
    expiry = portal_link_expiry(link, TreatmentCourse(ended_at=link.latest_course_ended_at))
    if expiry is not None and expiry <= timezone.now():
        raise PortalLinkExpired(link)


def portal_page(view):
    """Require a live portal session; sets ``request.portal_link`` and ``request.patient``.

    Every GET is audited as a portal visit; views audit their own POSTs as actions.
    """

    @portal_response
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        link = current_portal_link(request)
        if link is None:
            return portal_not_found(request)
        try:
            portal_link_recheck(link)
        except PortalLinkInvalid:
            request.session.flush()
            return portal_not_found(request)
        except PortalLinkExpired:
            request.session.flush()
            return portal_expired(request, link)
        portal_link_touch(link)
        request.portal_link = link
        request.patient = link.patient
        if request.method == "GET":
            audit_record(
                action=AuditAction.PORTAL_ACCESS,
                clinic_id=link.clinic_id,
                actor_kind="patient",
                patient_id=link.patient_id,
                target=link,
                summary=f"Portal page viewed: {request.resolver_match.url_name}",
                request=request,
            )
        with translation.override(link.patient.language):
            try:
                return view(request, *args, **kwargs)
            except Http404:
                return portal_not_found(request)

    return wrapper


def staff_view(view):
    """Logged in and, when MFA is required, past the second factor; anonymous to login."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.MFA_REQUIRED and not request.user.is_verified():
            return redirect("accounts:mfa")
        return view(request, *args, **kwargs)

    return wrapper
