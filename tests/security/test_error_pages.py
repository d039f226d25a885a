"""What a refused request shows: a page in the app's own layout that the CSP lets render (no
inline code), that tells the user what happened and what to do, and says nothing about the
record asked for. Patients get the portal's wording, not the staff start page."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path, reverse

from ipt_clinic.urls import handler403, handler404, handler500
from ipt_clinic.urls import urlpatterns as app_urlpatterns
from patients.portal_links import portal_link_create
from tests.conftest import login
from tests.factories import PatientFactory
from tests.portal.links import open_portal

from .test_no_inline_code import inline_code

pytestmark = pytest.mark.django_db


def _refused(request):
    # What a service's own guard raises when a view lets through someone it should not.
    raise PermissionDenied("Only a clinic admin of this clinic may manage its staff.")


# This module doubles as a URLconf (the app's, with handlers, plus one refusing page) for the
# test that needs a refusal no app page reaches.
urlpatterns = [*app_urlpatterns, path("refused/", _refused)]
__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def test_a_form_sent_without_its_token_says_nothing_was_saved_and_how_to_keep_the_text(therapist):
    client = login(Client(enforce_csrf_checks=True), therapist)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 403
    html = response.content.decode()
    assert "This page has expired" in html
    assert "not saved" in html
    assert "copy anything you typed" in html
    assert 'href="/static/css/app.css"' in html  # the app's own styles, allowed by the CSP
    assert inline_code(html) == []
    assert "<script" not in html
    assert "_auth_user_id" in client.session  # refused, not signed out


def test_a_missing_record_and_a_forbidden_one_get_the_same_page(therapist, other_therapist):
    client = login(Client(), therapist)
    someone_elses = PatientFactory(primary_therapist=other_therapist, last_name="Hidden")

    forbidden = client.get(reverse("patients:detail", kwargs={"patient_id": someone_elses.pk}))
    missing = client.get(reverse("patients:detail", kwargs={"patient_id": someone_elses.pk + 1000}))

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content
    html = forbidden.content.decode()
    assert "Not found" in html
    assert "Hidden" not in html
    assert inline_code(html) == []


def test_an_unknown_address_gets_the_not_found_page():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()


def test_a_patient_gets_the_portals_pages_not_the_staff_ones(course, therapist):
    client = Client(enforce_csrf_checks=True)
    _, url = portal_link_create(patient=course.patient, by=therapist)
    assert open_portal(client, url).status_code == 302

    expired = client.post(reverse("portal:leave"))
    missing = client.get(reverse("portal:home") + "no/such/page/")

    assert expired.status_code == 403
    assert "Open the link your clinic gave you again" in expired.content.decode()
    assert 'href="/"' not in expired.content.decode()  # no way into the staff side
    assert expired["Referrer-Policy"] == "no-referrer"
    assert missing.status_code == 404
    assert "We could not open this page" in missing.content.decode()
    assert missing["Cache-Control"] == "no-store"


@pytest.mark.urls("tests.security.test_error_pages")
def test_a_refused_action_gets_the_not_allowed_page_without_the_reason(therapist):
    response = login(Client(), therapist).get("/refused/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html
    assert "clinic admin of this clinic" not in html  # the guard's wording stays in the log
    assert inline_code(html) == []
