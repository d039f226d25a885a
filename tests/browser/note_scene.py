"""The scene the note-draft journeys share: Alice, one patient, a session two hours ago and
its note opened, then the steps of logging in on the page the browser is on."""

from datetime import timedelta

from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from ipt_clinic.accounts.models import Role
from sessions import services
from tests.factories import ClinicFactory, CourseFactory, PatientFactory, SessionFactory

from .helpers import PASSWORD, staff_with_authenticator


def note_to_write():
    clinic = ClinicFactory(name="Riverside Clinic", slug="riverside")
    alice, device = staff_with_authenticator(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )
    patient = PatientFactory(primary_therapist=alice, first_name="Jamie", last_name="Rivers")
    session = SessionFactory(
        course=CourseFactory(patient=patient),
        scheduled_start=timezone.now() - timedelta(hours=2),
        status="attended",
    )
    return alice, device, services.note_start(session=session, by=alice)


def log_in_here(page: Page, username: str, device: TOTPDevice) -> None:
    """The login form already on the page, then a fresh authenticator code (the device
    accepts each time step once: a second login in the same step needs it cleared)."""
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("Verification code").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()
