"""The course's dates (its start, the contract and formulation agreed, a death or a role
transition) lie between 1900 and 2100; outside, the form says so on the field."""

import pytest

from phases.forms import CourseForm, FormulationForm, ProblemAreaForm

pytestmark = pytest.mark.django_db

MESSAGE = "Enter a date between 1 Jan 1900 and 31 Dec 2100."


def test_it_refuses_course_dates_out_of_range(course):
    form = CourseForm(
        {
            "start_date": "9999-01-01",
            "planned_sessions": 12,
            "frequency": "weekly",
            "session_minutes": 50,
            "contract_agreed_on": "1066-10-14",
        },
        instance=course,
        version=course.version,
    )
    assert not form.is_valid()
    assert form.errors["start_date"] == [MESSAGE]
    assert form.errors["contract_agreed_on"] == [MESSAGE]


def test_it_refuses_a_formulation_agreed_in_9999(course):
    form = FormulationForm(
        {"formulation": "Grief after her father died.", "formulation_agreed_on": "9999-12-31"},
        instance=course,
        version=course.version,
    )
    assert not form.is_valid()
    assert form.errors["formulation_agreed_on"] == [MESSAGE]


def test_it_refuses_a_transition_dated_2999(course):
    form = ProblemAreaForm(
        {
            "kind": "role_transition",
            "old_role": "Employed",
            "new_role": "Retired",
            "transition_date": "2999-01-01",
        },
        patient=course.patient,
    )
    assert not form.is_valid()
    assert form.errors["transition_date"] == [MESSAGE]
