"""The clinic admin's Settings page: the clinic's own time zone, reminders, quiet hours,
numbers for patients and risk-flag contacts, each change audited old -> new, two admins
never saving over each other."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import Clinic, Role
from ipt_clinic.audit.models import AuditAction, AuditEvent
from sessions.attendance import rebuild_attendance_weeks
from sessions.models import AttendanceWeek, SessionStatus
from tests.conftest import login
from tests.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/caseload/clinic/settings/"


def _form(clinic: Clinic, **changes) -> dict:
    """The page's form as it is filled in now for ``clinic``, with ``changes`` typed over it."""
    clinic.refresh_from_db()
    values = {
        "version": clinic.version,
        "time_zone": clinic.time_zone,
        "reminder_lead_hours": clinic.reminder_lead_hours,
        "quiet_hours_start": clinic.quiet_hours_start.strftime("%H:%M"),
        "quiet_hours_end": clinic.quiet_hours_end.strftime("%H:%M"),
        "sender_name": clinic.sender_name,
        "phone": clinic.phone,
        "duty_staff": clinic.duty_staff_id or "",
        "duty_name": clinic.duty_name,
        "duty_email": clinic.duty_email,
        "duty_phone": clinic.duty_phone,
        "escalation_minutes": clinic.escalation_minutes,
        "emergency_number": clinic.emergency_number,
        "crisis_line_name": clinic.crisis_line_name,
        "crisis_line_number": clinic.crisis_line_number,
    }
    return {**values, **changes}


def _errors(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_it_is_the_address_the_admins_nav_links_to(admin_client):
    assert reverse("caseload:clinic_settings") == URL
    dashboard = admin_client.get(reverse("caseload:dashboard")).content.decode()
    assert f'href="{URL}">Settings</a>' in dashboard
    page = admin_client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'aria-current="page" href="/caseload/clinic/settings/">Settings' in body
    assert '<option value="Europe/London" selected>Europe/London</option>' in body
    assert '<h1 class="h3">Clinic settings</h1>' in body


def test_it_saves_every_setting_and_audits_old_and_new_values(
    admin_client, clinic, clinic_admin, other_therapist
):
    response = admin_client.post(
        URL,
        _form(
            clinic,
            time_zone="America/New_York",
            reminder_lead_hours=48,
            quiet_hours_start="22:00",
            quiet_hours_end="07:30",
            sender_name="Riverside Appointments",
            phone="020 7946 0000",
            duty_staff=other_therapist.pk,
            duty_phone="07700 900123",
            escalation_minutes=120,
            emergency_number="911",
            crisis_line_name="988 Suicide & Crisis Lifeline",
            crisis_line_number="988",
        ),
    )
    assert response.status_code == 302 and response["Location"] == URL
    clinic.refresh_from_db()
    assert clinic.time_zone == "America/New_York"
    assert clinic.reminder_lead == timedelta(hours=48)
    assert (clinic.quiet_hours_start, clinic.quiet_hours_end) == (time(22, 0), time(7, 30))
    assert clinic.sender_display_name == "Riverside Appointments"
    assert clinic.escalation_window == timedelta(hours=2)
    assert (clinic.emergency_line.number, clinic.emergency_line.tel) == ("911", "tel:911")
    assert (clinic.crisis_line.name, clinic.crisis_line.tel) == (
        "988 Suicide & Crisis Lifeline",
        "tel:988",
    )
    duty = clinic.duty_contact
    assert (duty.name, duty.email, duty.phone, duty.staff_id) == (
        "Bob Quinn",
        "bob@example.org",
        "07700 900123",
        other_therapist.pk,
    )
    assert clinic.version == 2

    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type="accounts.clinic")
    assert event.actor == clinic_admin and event.clinic_id == clinic.pk
    assert event.changes == {
        "time_zone": ["Europe/London", "America/New_York"],
        "reminder_lead_hours": [24, 48],
        "quiet_hours_start": ["21:00:00", "22:00:00"],
        "quiet_hours_end": ["08:00:00", "07:30:00"],
        "sender_name": ["", "Riverside Appointments"],
        "phone": ["", "020 7946 0000"],
        "duty_staff": [None, other_therapist.pk],
        "duty_phone": ["", "07700 900123"],
        "escalation_minutes": [240, 120],
        "emergency_number": ["", "911"],
        "crisis_line_name": ["", "988 Suicide & Crisis Lifeline"],
        "crisis_line_number": ["", "988"],
    }
    assert event.summary.startswith("Clinic settings changed: time zone, reminder lead time")


def test_saving_without_a_change_writes_nothing(admin_client, clinic):
    response = admin_client.post(URL, _form(clinic), follow=True)
    assert "Nothing was changed" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.version == 1
    assert not AuditEvent.objects.filter(object_type="accounts.clinic").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "Choose a time zone from the list (its IANA name, such as Europe/London).",
        ),
        (
            {"quiet_hours_start": "08:00", "quiet_hours_end": "21:00"},
            "Quiet hours are for the night: from 08:00 to 21:00 leaves the night out. "
            "Did you mean from 21:00 to 08:00?",
        ),
        (
            {"quiet_hours_start": "21:00", "quiet_hours_end": "21:00"},
            "Quiet hours need an end that differs from their start",
        ),
        (
            {"quiet_hours_start": "17:00", "quiet_hours_end": "09:00"},
            "Quiet hours from 17:00 to 09:00 last 16 hours: at most 14 hours",
        ),
        ({"reminder_lead_hours": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"reminder_lead_hours": "500"}, "Ensure this value is less than or equal to 168."),
        (
            {"phone": "call reception"},
            "“call reception” is not a phone number: use digits",
        ),
        ({"emergency_number": "99"}, "“99” has 2 digits: a phone number has 3 to 15."),
        ({"crisis_line_number": "0800 111 0 111 0800 111"}, "has 18 digits"),
        (
            {"crisis_line_name": "Samaritans", "crisis_line_number": ""},
            "Give the crisis line&#x27;s number too, or clear its name.",
        ),
        (
            {"duty_name": "Duty clinician"},
            "Give the duty contact an email address or a phone number for text messages.",
        ),
        (
            {"duty_email": "duty@riverside.example.org"},
            "Name the duty contact (a person or a duty line), or choose a member of staff.",
        ),
        ({"escalation_minutes": "5"}, "Select a valid choice."),
    ],
)
def test_it_refuses_a_value_that_makes_no_sense_saying_why(admin_client, clinic, changes, message):
    body = _errors(admin_client.post(URL, _form(clinic, **changes)))
    assert message in body
    clinic.refresh_from_db()
    assert clinic.version == 1 and clinic.time_zone == "Europe/London"


def test_a_refused_form_leaves_what_is_in_use_as_it_was(admin_client, clinic):
    body = _errors(
        admin_client.post(
            URL,
            _form(
                clinic, emergency_number="112", quiet_hours_start="21:00", quiet_hours_end="21:00"
            ),
        )
    )
    assert "Nothing was saved: correct the fields marked below." in body
    assert 'value="112"' in body  # what was typed stays in the form
    assert 'Emergency services: <a href="tel:999">999</a>' in body  # and is not in use


def test_the_duty_contact_is_a_member_of_this_clinics_active_staff(
    admin_client, clinic, other_clinic_admin, therapist
):
    body = _errors(admin_client.post(URL, _form(clinic, duty_staff=other_clinic_admin.pk)))
    assert "Select a valid choice" in body
    therapist.is_active = False
    therapist.save()
    body = _errors(admin_client.post(URL, _form(clinic, duty_staff=therapist.pk)))
    assert "Select a valid choice" in body


def test_a_duty_line_needs_no_member_of_staff(admin_client, clinic):
    response = admin_client.post(
        URL, _form(clinic, duty_name="Duty clinician", duty_email="duty@riverside.example.org")
    )
    assert response.status_code == 302
    clinic.refresh_from_db()
    duty = clinic.duty_contact
    assert (duty.name, duty.email, duty.phone, duty.staff_id) == (
        "Duty clinician",
        "duty@riverside.example.org",
        "",
        None,
    )


def test_a_deactivated_duty_member_of_staff_is_no_longer_alerted(clinic, therapist):
    clinic.duty_staff = therapist
    clinic.save()
    assert clinic.duty_contact.email == therapist.email
    therapist.is_active = False
    therapist.save()
    clinic = Clinic.objects.get(pk=clinic.pk)
    assert clinic.duty_contact is None
    clinic.duty_phone = "07700 900123"
    assert (clinic.duty_contact.name, clinic.duty_contact.phone) == ("Duty contact", "07700 900123")


def test_it_refuses_a_stale_save_and_shows_both_versions(clinic, clinic_admin):
    second_admin = UserFactory(username="dina", clinic=clinic, role=Role.CLINIC_ADMIN)
    first, second = login(Client(), clinic_admin), login(Client(), second_admin)
    opened = _form(clinic)  # both admins opened the page at version 1
    saved = first.post(URL, {**opened, "reminder_lead_hours": 48})
    assert saved.status_code == 302
    refused = second.post(URL, {**opened, "escalation_minutes": 60})
    assert refused.status_code == 409
    body = refused.content.decode()
    assert "Changed by someone else since you opened it" in body
    assert '<td class="text-prewrap stale-theirs">48</td>' in body
    assert '<td class="text-prewrap stale-yours">24</td>' in body
    clinic.refresh_from_db()
    assert (clinic.reminder_lead_hours, clinic.escalation_minutes, clinic.version) == (48, 240, 2)
    # The form now carries the stored version: saving again puts the second admin's values on
    # top, knowingly.
    assert 'name="version" value="2"' in body
    again = second.post(URL, {**opened, "version": 2, "escalation_minutes": 60})
    assert again.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.reminder_lead_hours, clinic.escalation_minutes) == (24, 60)


def test_only_the_clinics_own_admins_reach_it(
    therapist_client, other_admin_client, clinic, other_clinic
):
    assert therapist_client.get(URL).status_code == 404
    assert therapist_client.post(URL, _form(clinic, reminder_lead_hours=2)).status_code == 404
    # Another clinic's admin sees and changes their own clinic's settings, never this one's.
    page = other_admin_client.get(URL).content.decode()
    assert "Hillside Clinic" in page
    other_admin_client.post(URL, _form(other_clinic, reminder_lead_hours=2))
    clinic.refresh_from_db()
    other_clinic.refresh_from_db()
    assert (clinic.reminder_lead_hours, other_clinic.reminder_lead_hours) == (24, 2)
    assert Client().get(URL)["Location"].startswith(reverse("accounts:login"))


def test_a_new_clinic_starts_from_the_process_wide_defaults(settings):
    settings.TIME_ZONE = "Europe/Dublin"
    settings.CLINIC_REMINDER_LEAD_HOURS = 36
    settings.CLINIC_QUIET_HOURS = (time(20, 0), time(9, 0))
    settings.RISK_ESCALATION_MINUTES = 90
    settings.PORTAL_EMERGENCY_NUMBER = "112"
    settings.PORTAL_CRISIS_LINE_NAME = "Pieta"
    settings.PORTAL_CRISIS_LINE_NUMBER = "1800 247 247"
    clinic = Clinic.objects.create(name="Liffey Clinic", slug="liffey")
    clinic.refresh_from_db()
    assert clinic.time_zone == "Europe/Dublin"
    assert clinic.reminder_lead == timedelta(hours=36)
    assert (clinic.quiet_hours_start, clinic.quiet_hours_end) == (time(20, 0), time(9, 0))
    assert clinic.escalation_window == timedelta(minutes=90)
    assert clinic.escalation_window_label == "1 hour 30 minutes"
    # Blank numbers follow the defaults as they are now.
    assert (clinic.emergency_line.number, clinic.crisis_line.name) == ("112", "Pieta")
    assert clinic.crisis_line.tel == "tel:1800247247"
    settings.PORTAL_CRISIS_LINE_NUMBER = ""
    assert clinic.crisis_line is None


def _weeks_attended(therapist) -> list:
    return list(
        AttendanceWeek.objects.filter(therapist=therapist, attended__gt=0).values_list(
            "week_start", "attended"
        )
    )


def test_a_new_time_zone_moves_the_therapists_attendance_weeks(admin_client, clinic, therapist):
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    # 02:00 UTC on Monday 5 January 2026: Monday in London, still Sunday evening in New York.
    held = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    SessionFactory(course=course, scheduled_start=held, status=SessionStatus.ATTENDED)
    rebuild_attendance_weeks(clinic.pk, clinic.tz)
    assert _weeks_attended(therapist) == [(date(2026, 1, 5), 1)]
    response = admin_client.post(URL, _form(clinic, time_zone="America/New_York"))
    assert response.status_code == 302
    assert _weeks_attended(therapist) == [(date(2025, 12, 29), 1)]


def test_the_new_time_zone_is_the_one_staff_pages_show_times_in(
    admin_client, therapist_client, clinic, course
):
    session = SessionFactory(
        course=course, scheduled_start=datetime(2030, 1, 15, 14, 0, tzinfo=UTC)
    )
    admin_client.post(URL, _form(clinic, time_zone="America/New_York"))
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert (
        '<time datetime="2030-01-15T09:00:00-05:00">Tuesday 15 January 2030, 09:00</time> '
        "(America/New_York)"
    ) in page


def test_the_page_says_what_patients_and_staff_get_now(admin_client, clinic):
    body = admin_client.get(URL).content.decode()
    assert 'Emergency services: <a href="tel:999">999</a>' in body
    assert 'Samaritans (free, day or night): <a href="tel:116123">116 123</a>' in body
    assert "no duty contact is set" in body
    assert "Not acknowledged within 4 hours" in body
    clinic.phone = "020 7946 0000"
    clinic.duty_name, clinic.duty_email = "Duty clinician", "duty@riverside.example.org"
    clinic.save()
    body = admin_client.get(URL).content.decode()
    assert 'Riverside Clinic: <a href="tel:02079460000">020 7946 0000</a>' in body
    assert "and Duty clinician (duty@riverside.example.org)" in body
