"""A date of the record's history (a date of birth, a life event) lies between 1900 and 2100;
outside, the form says so on the field and nothing is saved."""

import pytest

from patients.forms import LifeEventForm, PatientForm

pytestmark = pytest.mark.django_db

MESSAGE = "Enter a date between 1 Jan 1900 and 31 Dec 2100."


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_it_refuses_a_date_of_birth_out_of_range(clinic, day):
    form = PatientForm(
        {
            "record_number": "R-1",
            "first_name": "Ann",
            "last_name": "Lee",
            "date_of_birth": day,
            "preferred_channel": "none",
        },
        clinic=clinic,
    )
    assert not form.is_valid()
    assert form.errors["date_of_birth"] == [MESSAGE]


@pytest.mark.parametrize(
    ("inside", "outside"), [("1900-01-01", "1899-12-31"), ("2100-12-31", "2101-01-01")]
)
def test_it_takes_the_ends_of_the_range_and_nothing_beyond(clinic, inside, outside):
    def form(day):
        return PatientForm(
            {
                "record_number": "R-1",
                "first_name": "Ann",
                "last_name": "Lee",
                "date_of_birth": day,
                "preferred_channel": "none",
            },
            clinic=clinic,
        )

    assert form(inside).is_valid()
    assert form(outside).errors["date_of_birth"] == [MESSAGE]


def test_it_refuses_a_life_event_in_9999_on_the_page(therapist_client, patient):
    from django.urls import reverse

    from patients.models import LifeEvent

    form = LifeEventForm(patient=patient)
    assert (
        form.fields["occurred_on"].widget.attrs["min"],
        form.fields["occurred_on"].widget.attrs["max"],
    ) == ("1900-01-01", "2100-12-31")
    url = reverse("patients:life_event_create", args=[patient.pk])
    page = therapist_client.get(url)
    key = page.context["form"]["form_key"].value()
    response = therapist_client.post(
        url,
        {"occurred_on": "9999-12-31", "description": "Moved", "mood_effect": 0, "form_key": key},
    )
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not LifeEvent.objects.exists()
