import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from phases.models import Phase
from tests.conftest import login
from tests.factories import (
    CourseFactory,
    LifeEventFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


def _rows(body: str) -> int:
    return body.count('href="/patients/') - body.count('href="/patients/new/')


def test_it_searches_by_name_and_record_number(therapist, therapist_client):
    PatientFactory(
        primary_therapist=therapist, first_name="Ada", last_name="Lovelace", record_number="AL-1"
    )
    PatientFactory(
        primary_therapist=therapist, first_name="Grace", last_name="Hopper", record_number="GH-2"
    )
    url = reverse("patients:list")
    assert "Hopper" not in therapist_client.get(url + "?q=love").content.decode()
    assert "Lovelace" in therapist_client.get(url + "?q=ada+love").content.decode()
    body = therapist_client.get(url + "?q=gh-2").content.decode()
    assert "Hopper" in body and "Lovelace" not in body


def test_it_filters_by_phase_status_and_problem_area(therapist, therapist_client):
    grief = PatientFactory(primary_therapist=therapist, last_name="Griefcase")
    ProblemAreaFactory(
        course=CourseFactory(patient=grief, phase=Phase.SOCIAL),
        kind="grief",
        deceased=RelationshipFactory(patient=grief, name="Dad", kind="parent", deceased=True),
    )
    dispute = PatientFactory(primary_therapist=therapist, last_name="Disputant")
    ProblemAreaFactory(
        course=CourseFactory(patient=dispute, phase=Phase.PROBLEM_SOLVING), kind="role_dispute"
    )
    PatientFactory(primary_therapist=therapist, last_name="Dischargedson", status="discharged")
    url = reverse("patients:list")
    body = therapist_client.get(url + "?phase=social").content.decode()
    assert "Griefcase" in body and "Disputant" not in body
    assert "Social assessment</a>" in body
    body = therapist_client.get(url + "?problem_area=role_dispute").content.decode()
    assert "Disputant" in body and "Griefcase" not in body
    body = therapist_client.get(url + "?status=discharged").content.decode()
    assert "Dischargedson" in body and "Griefcase" not in body


def test_the_phase_filter_offers_only_the_phases_of_an_active_course(therapist_client):
    # It filters on the active course's phase: "Completed" would always find nobody.
    body = therapist_client.get(reverse("patients:list")).content.decode()
    assert 'value="social"' in body and 'value="maintenance"' in body
    assert 'value="completed"' not in body


def test_a_therapist_lists_only_their_patients_and_an_admin_the_clinics(
    therapist, other_therapist, clinic_admin, other_clinic_admin, client
):
    PatientFactory(primary_therapist=therapist, last_name="Mine")
    PatientFactory(primary_therapist=other_therapist, last_name="Theirs")
    login(client, therapist)
    body = client.get(reverse("patients:list")).content.decode()
    assert "Mine" in body and "Theirs" not in body
    login(client, clinic_admin)
    body = client.get(reverse("patients:list")).content.decode()
    assert "Mine" in body and "Theirs" in body
    login(client, other_clinic_admin)
    body = client.get(reverse("patients:list")).content.decode()
    assert "Mine" not in body and "Theirs" not in body


def test_it_pages_by_25(therapist, therapist_client):
    for i in range(30):
        PatientFactory(primary_therapist=therapist, last_name=f"Pat{i:02d}")
    first = therapist_client.get(reverse("patients:list")).content.decode()
    # An old link that names only the page number still finds its page.
    second = therapist_client.get(reverse("patients:list") + "?page=2").content.decode()
    assert "Page 1: 25 patients, more on the next page" in first
    assert "Pat00" in first and "Pat25" not in first
    assert "Pat25" in second and "Pat29" in second and "Pat00" not in second


def _walk(client, query: dict, *, backwards_from=None) -> list[list[str]]:
    """Every page's patient ids, following the Next links (or the Previous links)."""
    from html import unescape

    url = reverse("patients:list") + "?" + urlencode(query) if query else reverse("patients:list")
    pages = []
    link = "Previous" if backwards_from else "Next"
    if backwards_from:
        url = backwards_from
    for _ in range(50):
        response = client.get(url)
        pages.append([patient.pk for patient in response.context["page_obj"].object_list])
        found = re.search(
            rf'<a class="page-link" href="([^"]+)">{link}</a>', response.content.decode()
        )
        if not found:
            return pages
        url = reverse("patients:list") + unescape(found.group(1))
    raise AssertionError("more than 50 pages")


def test_it_pages_the_whole_clinic_forward_and_back_in_the_lists_order(
    clinic, therapist, other_therapist, clinic_admin, client
):
    """A clinic admin's list (active and discharged patients, in name order; archived left
    out) walked by its Next links, then back by its Previous links, shows every patient once,
    in the order of the plain list, names shared by several patients included."""
    from patients.selectors import patient_list

    names = ["Able", "Baker", "Baker", "Cole", "de Vries", "Zephyr", "Ölund", "Ng"]
    for n in range(61):
        PatientFactory(
            primary_therapist=therapist if n % 2 else other_therapist,
            last_name=names[n % len(names)],
            first_name="Sam" if n % 3 else "Alex",
            status=["active", "discharged", "active", "archived"][n % 4],
        )
    login(client, clinic_admin)
    expected = [patient.pk for patient in patient_list(user=clinic_admin)]
    assert len(expected) == 46
    pages = _walk(client, {})
    assert [len(page) for page in pages] == [25, 21]
    assert [pk for page in pages for pk in page] == expected

    last_url = (
        reverse("patients:list") + "?" + urlencode({"after": _after_of(client, {}), "page": 2})
    )
    back = _walk(client, {}, backwards_from=last_url)
    assert [pk for page in reversed(back) for pk in page] == expected

    discharged = [p.pk for p in patient_list(user=clinic_admin, status="discharged")]
    pages = _walk(client, {"status": "discharged"})
    assert [pk for page in pages for pk in page] == discharged


def _after_of(client, query) -> str:
    return client.get(reverse("patients:list"), query).context["page_obj"].after


def test_an_admins_list_reads_a_page_and_counts_nothing(clinic, therapist, clinic_admin, client):
    """The whole clinic's list costs the same queries at 30 and at 600 patients, and none of
    them counts the clinic's patients."""
    login(client, clinic_admin)

    def read(query) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("patients:list"), query)
        assert response.status_code == 200
        return len(queries), [q["sql"] for q in queries.captured_queries]

    for _ in range(30):
        PatientFactory(primary_therapist=therapist)
    few = read({}), read({"after": _after_of(client, {}), "page": 2})
    for _ in range(570):
        PatientFactory(primary_therapist=therapist)
    many = read({}), read({"after": _after_of(client, {}), "page": 2})
    assert [count for count, _ in few] == [count for count, _ in many]
    for _, statements in many:
        assert not any("COUNT(" in sql.upper() for sql in statements), statements


def _caseload(therapist, count):
    for _ in range(count):
        patient = PatientFactory(primary_therapist=therapist)
        course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
        ProblemAreaFactory(course=course)
        person = RelationshipFactory(patient=patient)
        LifeEventFactory(patient=patient, relationship=person)


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_and_the_patient_page_cost_the_same_with_5_and_200_patients(
    therapist, therapist_client
):
    _caseload(therapist, 5)
    patient = therapist.patients.order_by("pk").first()
    list_url = reverse("patients:list") + "?problem_area=role_transition"
    page_url = reverse("patients:detail", args=[patient.pk])
    few = (_count(therapist_client, list_url), _count(therapist_client, page_url))
    _caseload(therapist, 195)
    for _ in range(10):
        RelationshipFactory(patient=patient)
        LifeEventFactory(patient=patient)
    many = (_count(therapist_client, list_url), _count(therapist_client, page_url))
    assert few == many


def test_a_patient_with_an_open_risk_flag_carries_the_badge_in_the_list(
    therapist, therapist_client
):
    from django.utils import timezone

    from sessions.models import Measure

    def flagged(first_name: str, responded: bool) -> Measure:
        course = CourseFactory(
            patient=PatientFactory(primary_therapist=therapist, first_name=first_name),
            therapist=therapist,
        )
        return Measure.objects.create(
            clinic=course.clinic,
            course=course,
            instrument="phq9",
            answers=[0] * 8 + [1],
            total=1,
            severity="minimal",
            risk_flag=True,
            risk_responded_at=timezone.now() if responded else None,
            taken_at=timezone.now(),
            entered_by=therapist,
        )

    open_flag = flagged("Rhea", responded=False)
    flagged("Sol", responded=True)
    PatientFactory(primary_therapist=therapist, first_name="Tam")
    body = therapist_client.get(reverse("patients:list")).content.decode()
    badges = re.findall(r'href="([^"]+)">Risk flag open<span class="visually-hidden">: (\w+)', body)
    assert badges == [(reverse("therapy:risk_flag", args=[open_flag.pk]), "Rhea")]
