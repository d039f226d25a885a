"""Every POST in the URLconf refuses a request without the CSRF token, even from the person
allowed to make it, and changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse

import tests.matrix as matrix
from ipt_clinic.audit.models import AuditEvent

from .helpers import allowed_client, rows_with, url_for

POST_ROWS = rows_with("post")


def test_it_walks_every_post_row_of_the_access_matrix():
    # A wrong import (no rows) must not turn the suite below into nothing.
    assert len(POST_ROWS) >= 30
    assert {row.audience for _, _, row in POST_ROWS} >= {"patient", "admin", "staff", "portal"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "index", "row"), POST_ROWS, ids=[f"{n}[{i}]" for n, i, _ in POST_ROWS]
)
def test_it_refuses_a_post_without_the_csrf_token(name, index, row):
    world = matrix.build_world()
    client = allowed_client(world, row, enforce_csrf_checks=True)
    # The row's record first (making it may write audit events of its own), then the count.
    url, data = url_for(world, name, row), row.data(world)
    events_before = AuditEvent.objects.count()

    response = client.post(url, data)

    assert response.status_code == 403, f"{name}: {response.status_code} without a CSRF token"
    assert b"CSRF" in response.content
    assert AuditEvent.objects.count() == events_before, f"{name} did something before refusing"


@pytest.mark.django_db
def test_it_accepts_the_same_post_with_the_token():
    # The refusals above are the CSRF check's, not some other failure: with the token from
    # the page the same POST goes through.
    world = matrix.build_world()
    client = allowed_client(world, matrix.Row(audience="staff"), enforce_csrf_checks=True)
    client.get(reverse("home"), follow=True)
    logout = reverse("accounts:logout")

    assert client.post(logout).status_code == 403
    token = client.cookies["csrftoken"].value
    assert client.post(logout, {"csrfmiddlewaretoken": token}).status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_refuses_the_login_form_without_the_token(therapist):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("accounts:login"), {"login": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
