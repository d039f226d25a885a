"""Each portal request re-checks its link with the latest course's end read in the link's own
query (``portal.decorators``): the same answer as ``patients.portal_links.portal_link_check``
in every state a link can be in."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone

from patients.models import PatientStatus, PortalLink
from patients.portal_links import (
    PortalLinkExpired,
    PortalLinkInvalid,
    portal_link_check,
    portal_link_create,
)
from phases.models import CourseStatus, TreatmentCourse
from portal.decorators import PORTAL_LINK_SESSION_KEY, current_portal_link, portal_link_recheck
from tests.factories import CourseFactory, PatientFactory

GRACE = timedelta(days=settings.PORTAL_LINK_DAYS_AFTER_COURSE)
DAY = timedelta(days=1)


def _answer(check, link) -> str:
    try:
        check(link)
    except PortalLinkInvalid:
        return "invalid"
    except PortalLinkExpired:
        return "expired"
    return "live"


def _ended(course, ago: timedelta) -> None:
    TreatmentCourse.objects.filter(pk=course.pk).update(
        status=CourseStatus.COMPLETED, ended_at=timezone.now() - ago
    )


def _no_course(patient):
    pass


def _running(patient):
    CourseFactory(patient=patient)


def _ended_within_grace(patient):
    _ended(CourseFactory(patient=patient), GRACE - DAY)


def _ended_past_grace(patient):
    _ended(CourseFactory(patient=patient), GRACE + DAY)


def _older_ended_latest_running(patient):
    older = CourseFactory(patient=patient, start_date=timezone.localdate() - timedelta(days=400))
    _ended(older, GRACE * 3)
    CourseFactory(patient=patient)


def _latest_ended_past_grace_an_older_one_since(patient):
    # The latest by start date decides, whatever an older course did.
    older = CourseFactory(patient=patient, start_date=timezone.localdate() - timedelta(days=400))
    _ended(older, GRACE - DAY)
    _ended(CourseFactory(patient=patient), GRACE + DAY)


def _same_start_the_higher_id_is_latest(patient):
    start = timezone.localdate() - timedelta(days=100)
    first = CourseFactory(patient=patient, start_date=start)
    _ended(first, GRACE + DAY)
    CourseFactory(patient=patient, start_date=start, status=CourseStatus.COMPLETED)


COURSES = [
    _no_course,
    _running,
    _ended_within_grace,
    _ended_past_grace,
    _older_ended_latest_running,
    _latest_ended_past_grace_an_older_one_since,
    _same_start_the_higher_id_is_latest,
]
LINKS = {
    "as made": {},
    "revoked": {"revoked_at": timezone.now},
    "own end passed": {"expires_at": lambda: timezone.now() - timedelta(minutes=1)},
    "own end ahead": {"expires_at": lambda: timezone.now() + DAY},
}


@pytest.mark.parametrize("courses", COURSES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("link_state", list(LINKS))
@pytest.mark.parametrize("archived", [False, True], ids=["patient", "archived patient"])
def test_it_answers_as_the_links_own_check(therapist, courses, link_state, archived):
    patient = PatientFactory(primary_therapist=therapist)
    courses(patient)
    link, _ = portal_link_create(patient=patient, by=therapist)
    changes = {field: make() for field, make in LINKS[link_state].items()}
    if changes:
        PortalLink.objects.filter(pk=link.pk).update(**changes)
    if archived:
        type(patient).objects.filter(pk=patient.pk).update(status=PatientStatus.ARCHIVED)

    request = RequestFactory().get("/p/")
    request.session = {PORTAL_LINK_SESSION_KEY: link.pk}
    read = current_portal_link(request)
    plain = PortalLink.objects.select_related("patient__clinic").get(pk=link.pk)
    assert _answer(portal_link_recheck, read) == _answer(portal_link_check, plain)


def test_the_link_query_carries_when_the_latest_course_ended(therapist):
    patient = PatientFactory(primary_therapist=therapist)
    link, _ = portal_link_create(patient=patient, by=therapist)
    request = RequestFactory().get("/p/")
    request.session = {PORTAL_LINK_SESSION_KEY: link.pk}
    assert current_portal_link(request).latest_course_ended_at is None
    course = CourseFactory(patient=patient)
    assert current_portal_link(request).latest_course_ended_at is None
    _ended(course, GRACE)
    course.refresh_from_db()
    assert current_portal_link(request).latest_course_ended_at == course.ended_at
