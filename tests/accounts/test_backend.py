"""The authentication backend loads each request's user with their clinic, and still refuses
an inactive or unknown user."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ipt_clinic.accounts.backends import ClinicModelBackend

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_their_clinic_in_one_query(therapist):
    with CaptureQueriesContext(connection) as queries:
        user = ClinicModelBackend().get_user(therapist.pk)
        clinic_name = user.clinic.name
    assert (user, clinic_name) == (therapist, "Riverside Clinic")
    assert len(queries) == 1


def test_an_inactive_or_unknown_user_is_no_user(therapist):
    backend = ClinicModelBackend()
    assert backend.get_user(therapist.pk + 1000) is None
    therapist.is_active = False
    therapist.save()
    assert backend.get_user(therapist.pk) is None


def test_a_signed_in_page_reads_the_user_and_clinic_together(therapist_client, therapist):
    from django.urls import reverse

    with CaptureQueriesContext(connection) as queries:
        response = therapist_client.get(reverse("patients:list"))
    assert response.status_code == 200
    assert not [q for q in queries if q["sql"].startswith('SELECT "accounts_clinic"')]
