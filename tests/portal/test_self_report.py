"""PHQ-9 / GAD-7 in the portal: patient-entered scores, one record per form, item 9 flags."""

from django.test import Client
from django.urls import reverse

from sessions.models import EnteredBy, Measure
from sessions.portal_activity import portal_activity_since
from sessions.scoring import PHQ9
from tests.form_keys import key_on


def _form_key(client, instrument="phq9") -> str:
    page = client.get(reverse("portal:questionnaire", kwargs={"instrument": instrument}))
    return key_on(page)


def _answers(values):
    return {f"item_{n}": v for n, v in enumerate(values, start=1)}


def test_it_shows_the_questionnaire_items(portal_client):
    body = portal_client.get(reverse("portal:questionnaire", kwargs={"instrument": "phq9"}))
    for item in PHQ9.items:
        assert item in body.content.decode()


def test_it_stores_the_answers_as_patient_entered_scores(portal_client, course):
    key = _form_key(portal_client)
    response = portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {"form_key": key, **_answers([2, 2, 1, 1, 1, 1, 1, 1, 0])},
    )
    assert response.status_code == 302
    measure = Measure.objects.get(course=course)
    assert measure.entered_by_kind == EnteredBy.PATIENT
    assert measure.entered_by is None
    assert measure.total == 10 and measure.severity == "moderate"
    assert not measure.risk_flag
    course.refresh_from_db()
    assert course.latest_phq9 == 10
    thanks = portal_client.get(response["Location"]).content.decode()
    assert "Thank you" in thanks
    assert "thinking about hurting yourself" not in thanks


def test_it_creates_one_record_when_the_same_form_is_sent_twice(portal_client, course):
    key = _form_key(portal_client, "gad7")
    data = {"form_key": key, **_answers([1, 1, 1, 1, 1, 1, 1])}
    url = reverse("portal:questionnaire", kwargs={"instrument": "gad7"})
    first = portal_client.post(url, data)
    second = portal_client.post(url, data)
    assert first["Location"] == second["Location"]
    assert Measure.objects.filter(course=course).count() == 1
    # A freshly rendered form is a new questionnaire.
    portal_client.post(url, {**data, "form_key": _form_key(portal_client, "gad7")})
    assert Measure.objects.filter(course=course).count() == 2


def _phq9_with_item_9(portal_client, item_9: int) -> str:
    """A PHQ-9 with every answer 0 but the last (thoughts of self-harm); the page after it."""
    response = portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {"form_key": _form_key(portal_client), **_answers([0] * 8 + [item_9])},
        follow=True,
    )
    return response.content.decode()


def test_it_shows_crisis_resources_and_flags_the_therapist_on_item_9(
    portal_client, course, therapist, clinic
):
    clinic.phone = "020 7946 0000"
    clinic.save()
    body = _phq9_with_item_9(portal_client, 1)
    assert "thinking about hurting yourself" in body
    assert "020 7946 0000" in body
    assert "999" in body
    measure = Measure.objects.get(course=course)
    assert measure.risk_flag and measure.risk_responded_at is None

    activity = portal_activity_since(therapist)
    assert [(a.kind, a.measure, a.risk_flag) for a in activity] == [("self_report", measure, True)]


def test_a_clinic_elsewhere_gives_its_own_emergency_number_and_crisis_line(
    portal_client, course, clinic
):
    clinic.emergency_number = "112"
    clinic.crisis_line_name = "Telefonseelsorge"
    clinic.crisis_line_number = "0800 111 0 111"
    clinic.save()
    body = _phq9_with_item_9(portal_client, 2)
    assert '<a href="tel:112">112</a>' in body
    assert 'Telefonseelsorge: call <strong><a href="tel:08001110111">0800 111 0 111</a>' in body
    assert "Samaritans" not in body and "999" not in body


def test_a_clinic_that_set_no_numbers_gives_the_defaults_as_tap_to_call_links(
    portal_client, course, clinic
):
    clinic.phone = "020 7946 0000"
    clinic.save()
    body = _phq9_with_item_9(portal_client, 1)
    assert '<a href="tel:999">999</a>' in body
    assert 'Samaritans (free, day or night): call <strong><a href="tel:116123">116 123</a>' in body
    assert '<a href="tel:02079460000">020 7946 0000</a>' in body


def test_it_refuses_incomplete_answers(portal_client, course):
    response = portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {"form_key": _form_key(portal_client), **_answers([1, 1, 1])},
    )
    assert response.status_code == 200
    assert "Please answer every question." in response.content.decode()
    assert not Measure.objects.filter(course=course).exists()


def test_it_keeps_a_copied_form_key_from_reaching_another_patients_record(
    portal_link, course, therapist
):
    from patients.portal_links import portal_link_create
    from tests.factories import CourseFactory, PatientFactory

    from .conftest import open_portal

    mine = Client()
    open_portal(mine, portal_link[1])
    key = _form_key(mine)
    data = {"form_key": key, **_answers([1] * 9)}
    mine.post(reverse("portal:questionnaire", kwargs={"instrument": "phq9"}), data)

    other_course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    theirs = Client()
    open_portal(theirs, portal_link_create(patient=other_course.patient, by=therapist)[1])
    url = reverse("portal:questionnaire", kwargs={"instrument": "phq9"})
    response = theirs.post(url, data)
    # Refused, saying so, with the answers still on the form and a fresh key of their own.
    assert response.status_code == 200
    assert "Your answers were not sent" in response.content.decode()
    assert 'name="item_1" value="1" class="answer-input" id="id_item_1_1" required checked' in (
        response.content.decode()
    )
    assert not Measure.objects.filter(course=other_course).exists()
    assert Measure.objects.filter(course=course).count() == 1
    assert theirs.post(url, {**data, "form_key": key_on(response)}).status_code == 302
    assert Measure.objects.filter(course=other_course).count() == 1
    assert Measure.objects.filter(course=course).count() == 1


def test_it_puts_the_item_9_flag_on_the_therapists_home(portal_client, course, therapist_client):
    portal_client.post(
        reverse("portal:questionnaire", kwargs={"instrument": "phq9"}),
        {"form_key": _form_key(portal_client), **_answers([1, 1, 1, 1, 1, 1, 1, 1, 3])},
    )
    home = therapist_client.get(reverse("caseload:therapist_home"))
    assert home.status_code == 200
    body = home.content.decode()
    assert "Item 9 positive" in body
    assert "Jamie Rivers" in body


def test_it_tells_the_patient_who_was_alerted_and_how_to_get_help_now(
    portal_client, course, clinic
):
    body = _phq9_with_item_9(portal_client, 1)
    assert "We have told your therapist about your answers now." in body
    assert "at your next appointment" not in body  # not a promise to wait
    assert "If you need help before then" in body
    from notifications.models import Notification

    assert Notification.objects.filter(kind="risk_alert").exists()


def test_it_names_the_duty_clinician_when_the_clinic_has_one(portal_client, course, clinic):
    clinic.duty_email = "duty@clinic.example"
    clinic.save()
    body = _phq9_with_item_9(portal_client, 2)
    assert "your therapist and the clinic's duty clinician about your answers now" in body
