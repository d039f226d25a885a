"""Nothing a staff member is shown stays in the browser's cache: on a shared workstation,
Back or the history after logout must not bring a clinical page back
(ipt_clinic/private_pages.py)."""

import pytest
from django.test import Client
from django.urls import reverse

import tests.matrix as matrix
from tests.conftest import login

from .helpers import allowed_client, rows_with, url_for

pytestmark = pytest.mark.django_db

STAFF_GET_ROWS = [
    (name, index, row)
    for name, index, row in rows_with("get")
    if row.audience in {"patient", "admin", "staff"}
]


def _not_stored(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def test_it_stores_no_staff_page():
    assert len(STAFF_GET_ROWS) >= 40  # a wrong import must not leave nothing to check
    world = matrix.build_world()
    clients: dict[str, Client] = {}
    stored = []
    for name, _index, row in STAFF_GET_ROWS:
        if row.audience not in clients:
            clients[row.audience] = allowed_client(world, row)
        response = clients[row.audience].get(url_for(world, name, row))
        assert response.status_code < 400, f"{name}: {response.status_code}"
        if not _not_stored(response):
            stored.append((name, response.get("Cache-Control")))
    assert stored == []


def test_it_stores_nothing_through_the_login_and_the_logout(therapist, patient):
    client = Client()
    login_page = client.get(reverse("accounts:login"))
    assert login_page.status_code == 200
    login(client, therapist)
    record = reverse("patients:detail", kwargs={"patient_id": patient.pk})
    shown = client.get(record)
    assert shown.status_code == 200 and patient.last_name in shown.content.decode()
    assert _not_stored(shown)
    # Only what is private: the stylesheet the page loads keeps its cache.
    stylesheet = client.get("/static/css/app.css")
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet.get("Cache-Control", "")

    logout = client.post(reverse("accounts:logout"))
    assert logout.status_code == 302
    assert _not_stored(logout)  # the answer to the last staff request too
    # Back to the record's address afterwards: the login, not the page.
    again = client.get(record)
    assert again.status_code == 302
    assert again["Location"].startswith(reverse("accounts:login"))
    assert patient.last_name not in again.content.decode()
