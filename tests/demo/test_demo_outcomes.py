"""The demo's finished courses give the clinic admin's outcomes page figures as services
report them: most improve, some recover, one deteriorates."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import User
from tests.conftest import login


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def _counts(group) -> dict[str, int]:
    keys = ("finished", "cases", "recovered", "reliably_improved", "reliably_recovered")
    return {key: group.count(key) for key in (*keys, "reliably_deteriorated")}


def test_it_shows_northgates_outcomes_as_services_report_them(demo):
    client = login(Client(), User.objects.get(username="north.admin"))
    response = client.get(reverse("caseload:outcomes"))
    assert response.status_code == 200
    recovery = response.context["recovery"]
    clinic = _counts(recovery.clinic)
    assert clinic["finished"] >= 9
    assert clinic["reliably_improved"] > clinic["finished"] / 2
    assert 3 <= clinic["recovered"] < clinic["cases"]
    assert clinic["reliably_deteriorated"] == 1
    assert clinic["cases"] < clinic["finished"]  # one began below both thresholds
    ben = next(g for g in recovery.by_therapist if g.label == "Ben Adeyemi")
    assert ben.count("finished") == clinic["finished"]
    for area in recovery.by_problem_area:
        assert area.count("finished") >= 2, area.label


def test_it_shows_southbanks_two_therapists_finished_courses(demo):
    client = login(Client(), User.objects.get(username="south.admin"))
    recovery = client.get(reverse("caseload:outcomes")).context["recovery"]
    assert [g.label for g in recovery.by_therapist] == ["Chloe Brennan", "Dev Raman"]
    assert all(g.count("recovered") >= 1 for g in recovery.by_therapist)
