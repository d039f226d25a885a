"""The patient page lists the letters of all the patient's courses, with the course's start;
a patient whose courses are all running (a letter is written once a course has ended) costs
the page no read of letters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from letters.services import letter_draft
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def _page(client, patient) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def _letter_reads(sql: list[str]) -> int:
    return sum(1 for text in sql if 'FROM "letters_dischargeletter"' in text)


def test_the_letters_of_an_ended_course_are_listed_with_its_start(
    ended_course, therapist, therapist_client
):
    CourseFactory(patient=ended_course.patient)  # the course running now
    letter = letter_draft(course=ended_course, by=therapist)
    page, sql = _page(therapist_client, ended_course.patient)
    assert reverse("letters:detail", args=[letter.pk]) in page
    assert "course from 20 Aug 2026" in page and "Draft" in page
    assert _letter_reads(sql) == 1


def test_no_letters_are_read_while_every_course_runs(patient, therapist_client):
    CourseFactory(patient=patient)
    page, sql = _page(therapist_client, patient)
    assert 'id="patient-letters"' not in page
    assert _letter_reads(sql) == 0
