"""Opening the personal link: the token becomes a session and leaves the address."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditAction, AuditEvent
from patients.models import PortalLink
from patients.portal_links import hash_token, portal_link_create, portal_link_revoke
from tests.factories import AssignmentFactory, CourseFactory, PatientFactory

from .conftest import open_portal


def _token(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def test_it_exchanges_the_token_for_a_session_and_drops_it_from_the_address(portal_link):
    link, url = portal_link
    token = _token(url)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "fixated-session-key-from-an-attacker"
    response = open_portal(client, url)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert token not in response["Location"]
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie.value and session_cookie.value != "fixated-session-key-from-an-attacker"
    assert session_cookie["httponly"]

    final = client.get(response["Location"], follow=True)
    assert final.status_code == 200
    assert all(token not in hop for hop, _ in final.redirect_chain)
    assert token not in final.request["PATH_INFO"]
    assert "Hello Jamie" in final.content.decode()
    link.refresh_from_db()
    assert link.last_used_at is not None
    assert AuditEvent.objects.filter(
        action=AuditAction.PORTAL_ACCESS, patient_id=link.patient_id, actor_kind="patient"
    ).exists()


def test_it_opens_nothing_on_a_get_of_the_link(portal_link):
    # A mail scanner or a link preview fetches the link, perhaps more than once.
    link, url = portal_link
    scanner = Client()
    for _ in range(2):
        landing = scanner.get(urlsplit(url).path)
        assert landing.status_code == 200
        body = landing.content.decode()
        assert "Open my page" in body and 'method="post"' in body
        assert "Jamie" not in body  # nothing of the patient before the button
        assert settings.SESSION_COOKIE_NAME not in landing.cookies
    assert scanner.get(reverse("portal:home")).status_code == 404
    link.refresh_from_db()
    assert link.last_used_at is None
    assert not AuditEvent.objects.filter(summary="Portal opened with the personal link").exists()
    # The patient's own press of the button afterwards opens the portal.
    patient = Client()
    assert open_portal(patient, url).status_code == 302
    assert patient.get(reverse("portal:home")).status_code == 200


def test_it_opens_the_portal_only_by_a_post_carrying_the_csrf_token(portal_link):
    _, url = portal_link
    browser = Client(enforce_csrf_checks=True)
    browser.get(urlsplit(url).path)
    assert browser.post(urlsplit(url).path).status_code == 403
    assert browser.get(reverse("portal:home")).status_code == 404
    assert open_portal(browser, url).status_code == 302


def _staff_page_ok(client) -> bool:
    return client.get(reverse("patients:list")).status_code == 200


def test_it_keeps_a_staff_session_and_does_not_open_the_portal_in_its_browser(
    portal_link, therapist_client
):
    link, url = portal_link
    key = therapist_client.session.session_key
    landing = therapist_client.get(urlsplit(url).path)
    assert landing.status_code == 403
    body = landing.content.decode()
    assert "You are signed in as a member of staff" in body
    assert "private window" in body and "have not been signed out" in body
    assert "Open my page" not in body
    # The button's request, sent anyway, is refused the same way.
    assert therapist_client.post(urlsplit(url).path).status_code == 403
    assert therapist_client.session.session_key == key
    assert _staff_page_ok(therapist_client)
    assert therapist_client.get(reverse("portal:home")).status_code == 404
    link.refresh_from_db()
    assert link.last_used_at is None
    assert AuditEvent.objects.filter(
        object_id=link.pk,
        actor__isnull=False,
        summary="Personal link followed in a staff session; not opened there",
    ).exists()


def test_it_leaves_a_staff_session_alone_on_an_expired_or_unknown_link(
    portal_link, therapist_client
):
    link, url = portal_link
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    key = therapist_client.session.session_key
    assert therapist_client.get(urlsplit(url).path).status_code == 410
    unknown = reverse("portal:exchange", kwargs={"token": "x" * 43})
    assert therapist_client.get(unknown).status_code == 404
    assert therapist_client.session.session_key == key
    assert _staff_page_ok(therapist_client)


def test_it_leaves_an_open_portal_alone_on_an_expired_link(portal_link, portal_client, therapist):
    # A patient with two links (one old and expired) keeps the page the live one opened.
    other = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    old, old_url = portal_link_create(patient=other.patient, by=therapist)
    PortalLink.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert portal_client.get(urlsplit(old_url).path).status_code == 410
    assert portal_client.get(reverse("portal:home")).status_code == 200


def test_it_stores_only_the_hash_of_a_long_random_token(portal_link):
    link, url = portal_link
    token = _token(url)
    assert len(token) >= 43  # 32 random bytes, base64url
    assert link.token_hash == hash_token(token)
    assert not PortalLink.objects.filter(token_hash=token).exists()
    assert url.startswith(f"{settings.SITE_URL}/p/")


def test_it_answers_404_to_a_tampered_token(portal_link):
    _, url = portal_link
    token = _token(url)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = Client().get(reverse("portal:exchange", kwargs={"token": tampered}))
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


def test_it_answers_404_to_a_revoked_token_and_ends_sessions_opened_with_it(
    portal_link, portal_client, therapist
):
    link, url = portal_link
    assert portal_client.get(reverse("portal:home")).status_code == 200
    portal_link_revoke(link=link, by=therapist)
    assert portal_client.get(reverse("portal:home")).status_code == 404
    assert open_portal(Client(), url).status_code == 404
    assert AuditEvent.objects.filter(
        object_id=link.pk, actor_kind="patient", summary="Revoked portal link used"
    ).exists()


def test_it_answers_404_to_the_old_token_once_the_link_is_replaced(portal_link, therapist):
    link, old_url = portal_link
    _, new_url = portal_link_create(patient=link.patient, by=therapist)
    assert open_portal(Client(), old_url).status_code == 404
    assert open_portal(Client(), new_url).status_code == 302


def test_it_answers_410_to_an_expired_link(portal_link):
    link, url = portal_link
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = open_portal(Client(), url)
    assert response.status_code == 410
    body = response.content.decode()
    assert "expired" in body and "contact" in body
    assert "Riverside Clinic" in body


def test_it_answers_410_when_the_course_ended_more_than_the_grace_period_ago(portal_link, course):
    link, url = portal_link
    days = settings.PORTAL_LINK_DAYS_AFTER_COURSE
    course.status = "completed"
    course.ended_at = timezone.now() - timedelta(days=days - 1)
    course.save()
    client = Client()
    assert open_portal(client, url).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200

    course.ended_at = timezone.now() - timedelta(days=days + 1)
    course.save()
    # The open session ends too: every request re-checks the link.
    assert client.get(reverse("portal:home")).status_code == 410
    assert client.get(reverse("portal:home")).status_code == 404
    assert open_portal(Client(), url).status_code == 410


def test_it_shows_each_patient_only_their_own_records(portal_link, therapist):
    other_course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    theirs = AssignmentFactory(course=other_course, title="Somebody else's homework")
    _, other_url = portal_link_create(patient=other_course.patient, by=therapist)

    client = Client()
    open_portal(client, portal_link[1])
    assert "Somebody else" not in client.get(reverse("portal:homework")).content.decode()
    detail = reverse("portal:homework_detail", kwargs={"assignment_id": theirs.pk})
    assert client.get(detail).status_code == 404
    assert client.post(detail, {"status": "done"}).status_code == 404

    # Opening the other patient's link switches the browser to that patient entirely.
    open_portal(client, other_url)
    assert client.get(detail).status_code == 200


def test_it_gives_a_staff_session_no_portal_identity(portal_link, therapist_client):
    assert therapist_client.get(reverse("portal:home")).status_code == 404
    assert Client().get(reverse("portal:home")).status_code == 404


def test_it_lets_the_system_make_a_link_without_a_staff_member(course):
    link, url = portal_link_create(patient=course.patient, by=None)
    assert link.created_by is None
    assert open_portal(Client(), url).status_code == 302
    assert AuditEvent.objects.filter(object_id=link.pk, actor_kind="system").exists()


def test_a_portal_request_reads_its_link_patient_and_clinic_as_the_orm_would(portal_client):
    from django.test import RequestFactory

    from portal.decorators import PORTAL_LINK_SESSION_KEY, current_portal_link

    request = RequestFactory().get("/p/")
    request.session = portal_client.session
    link = current_portal_link(request)
    expected = PortalLink.objects.select_related("patient__clinic").get(
        pk=request.session[PORTAL_LINK_SESSION_KEY]
    )
    for loaded, want in [
        (link, expected),
        (link.patient, expected.patient),
        (link.patient.clinic, expected.patient.clinic),
    ]:
        for field in type(want)._meta.concrete_fields:
            got, value = getattr(loaded, field.attname), getattr(want, field.attname)
            assert (got, type(got)) == (value, type(value)), field.name


def test_it_tells_staff_midway_through_their_login_too(portal_link, therapist, settings):
    """Staff who typed their password but not yet their second factor see the same page
    (their session kept), not the second-factor step."""
    settings.MFA_REQUIRED = True
    client = Client()
    client.force_login(therapist)  # a password-only session
    landing = client.get(urlsplit(portal_link[1]).path)
    assert landing.status_code == 403
    assert "You are signed in as a member of staff" in landing.content.decode()
