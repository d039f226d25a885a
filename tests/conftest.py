"""The fixed cast: two clinics; in clinic A a therapist (the owner), another therapist
and a clinic admin; in clinic B a clinic admin. ``login(client, user)`` gives a fully
authenticated staff session (password and second factor)."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from ipt_clinic.accounts.middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT
from ipt_clinic.accounts.models import Role

from .factories import ClinicFactory, CourseFactory, PatientFactory, UserFactory, reset_sequences


def login(client: Client, user) -> Client:
    """Log ``user`` in as if they had passed the password and the TOTP step."""
    from django.utils import timezone

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = timezone.now().isoformat()
    session[SESSION_LOGIN_AT] = now
    session[SESSION_LAST_SEEN] = now
    session.save()
    return client


@pytest.fixture(autouse=True)
def _factory_sequences_from_the_start():
    reset_sequences()


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Riverside Clinic", slug="riverside")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Hillside Clinic", slug="hillside")


@pytest.fixture
def therapist(clinic):
    return UserFactory(
        username="alice", first_name="Alice", last_name="Owen", clinic=clinic, role=Role.THERAPIST
    )


@pytest.fixture
def other_therapist(clinic):
    return UserFactory(
        username="bob", first_name="Bob", last_name="Quinn", clinic=clinic, role=Role.THERAPIST
    )


@pytest.fixture
def clinic_admin(clinic):
    return UserFactory(
        username="carol",
        first_name="Carol",
        last_name="Admin",
        clinic=clinic,
        role=Role.CLINIC_ADMIN,
    )


@pytest.fixture
def other_clinic_admin(other_clinic):
    return UserFactory(
        username="dave",
        first_name="Dave",
        last_name="Elsewhere",
        clinic=other_clinic,
        role=Role.CLINIC_ADMIN,
    )


@pytest.fixture
def patient(therapist):
    return PatientFactory(primary_therapist=therapist, first_name="Jamie", last_name="Rivers")


@pytest.fixture
def course(patient):
    return CourseFactory(patient=patient)


@pytest.fixture
def therapist_client(therapist):
    return login(Client(), therapist)


@pytest.fixture
def admin_client_(clinic_admin):
    return login(Client(), clinic_admin)


ROLE_THERAPIST = Role.THERAPIST
ROLE_ADMIN = Role.CLINIC_ADMIN


# --clock INSTANT runs each test as if the clock read an awkward instant (tests/clock.py).
# It also says at the end which random order the run took (-q hides pytest-randomly's header).
from tests.clock import (  # noqa: E402, F401
    _clock_option,
    pytest_addoption,
    pytest_configure,
    pytest_report_header,
)

# On CI a skipped test fails the run (see tests/foundation/skips.py).
from tests.foundation.skips import (  # noqa: E402, F401
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
