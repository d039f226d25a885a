"""The lookups every staff request makes (its session, its user with their clinic, its
second-factor device): an expired or unknown session is no session, a user id that is not a
number is no user, a device that is gone, unconfirmed or someone else's is no second
factor."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ipt_clinic.accounts.backends import ClinicModelBackend
from ipt_clinic.accounts.session_store import SessionStore
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_a_saved_session_loads_its_data_in_one_query():
    store = SessionStore()
    store["answer"] = {"nested": [1, 2]}
    store.save()
    loaded = SessionStore(store.session_key)
    with CaptureQueriesContext(connection) as queries:
        assert loaded["answer"] == {"nested": [1, 2]}
    assert len(queries) == 1


def test_an_expired_session_loads_nothing_and_its_key_is_dropped():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    loaded = SessionStore(store.session_key)
    assert loaded.load() == {}
    assert loaded.session_key is None


def test_an_unknown_session_key_loads_nothing():
    loaded = SessionStore("x" * 32)
    assert "answer" not in loaded
    assert loaded.session_key is None


def test_a_user_id_that_is_not_a_number_is_no_user():
    assert ClinicModelBackend().get_user("not-a-number") is None


def test_a_user_without_a_clinic_loads(therapist):
    therapist.clinic = None
    therapist.save()
    user = ClinicModelBackend().get_user(therapist.pk)
    assert user == therapist
    assert user.clinic is None


def _page(client: Client):
    return client.get(reverse("patients:list"))


def test_a_verified_session_reaches_the_caseload(therapist):
    client = login(Client(), therapist)
    assert _page(client).status_code == 200


def _with_device(client: Client, persistent_id: str) -> Client:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()
    return client


@pytest.mark.parametrize(
    "persistent_id",
    [
        "otp_totp.totpdevice/999999",  # no such device
        "otp_totp.totpdevice/not-a-number",
        "no_such_app.device/1",
        "accounts.user/1",  # a model, but not a device
        "garbage",
    ],
)
def test_a_session_naming_no_usable_device_is_sent_to_the_second_factor(therapist, persistent_id):
    client = _with_device(login(Client(), therapist), persistent_id)
    response = _page(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa")
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_another_users_device_is_no_second_factor(therapist, other_therapist):
    theirs = TOTPDevice.objects.create(user=other_therapist, name="default", confirmed=True)
    client = _with_device(login(Client(), therapist), theirs.persistent_id)
    assert _page(client)["Location"] == reverse("accounts:mfa")


def test_a_device_unconfirmed_or_removed_ends_verification_at_once(therapist):
    client = login(Client(), therapist)
    device = TOTPDevice.objects.get(user=therapist)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    assert _page(client)["Location"] == reverse("accounts:mfa")

    client = login(Client(), therapist)  # a new session on the same, still unconfirmed, device
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    assert _page(client).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).delete()
    assert _page(client)["Location"] == reverse("accounts:mfa")


def test_a_recovery_code_device_verifies_like_the_app_device(therapist):
    device = StaticDevice.objects.create(user=therapist, name="backup", confirmed=True)
    client = _with_device(login(Client(), therapist), device.persistent_id)
    assert _page(client).status_code == 200


def _same_values(loaded, expected) -> None:
    assert type(loaded) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        got, want = getattr(loaded, field.attname), getattr(expected, field.attname)
        assert (got, type(got)) == (want, type(want)), field.name


def test_the_fixed_user_read_gives_what_the_orm_gives(therapist):
    from ipt_clinic.accounts.backends import read_user_with_clinic
    from ipt_clinic.accounts.models import User

    therapist.last_login = timezone.now()
    therapist.save()
    user = read_user_with_clinic(therapist.pk)
    expected = User.objects.select_related("clinic").get(pk=therapist.pk)
    _same_values(user, expected)  # aware datetimes and real booleans on every database
    _same_values(user.clinic, expected.clinic)
    with CaptureQueriesContext(connection) as queries:
        assert user.clinic.name == expected.clinic.name  # cached: no further query
    assert len(queries) == 0
    assert read_user_with_clinic(therapist.pk + 10_000) is None


def test_the_backend_refuses_an_inactive_user_and_an_id_out_of_range(therapist):
    backend = ClinicModelBackend()
    assert backend.get_user(str(therapist.pk)) == therapist  # the session keeps ids as text
    assert backend.get_user(2**70) is None
    assert backend.get_user(None) is None
    therapist.is_active = False
    therapist.save()
    assert backend.get_user(therapist.pk) is None


def test_the_fixed_session_read_gives_what_the_orm_gives():
    from ipt_clinic.accounts.session_store import read_session_data

    store = SessionStore()
    store["answer"] = {"nested": [1, 2], "text": "café"}
    store.save()
    expected = Session.objects.get(session_key=store.session_key, expire_date__gt=timezone.now())
    assert read_session_data(store.session_key) == expected.session_data
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert not Session.objects.filter(
        session_key=store.session_key, expire_date__gt=timezone.now()
    ).exists()
    assert read_session_data(store.session_key) is None
    assert read_session_data("y" * 32) is None


def test_the_fixed_device_read_gives_what_django_otp_gives(therapist):
    from django_otp.models import Device

    from ipt_clinic.accounts.middleware import read_device

    totp = TOTPDevice.objects.create(user=therapist, name="default", confirmed=True)
    TOTPDevice.objects.filter(pk=totp.pk).update(
        throttling_failure_timestamp=timezone.now(), throttling_failure_count=2
    )
    static = StaticDevice.objects.create(user=therapist, name="backup", confirmed=False)
    for device in (totp, static):
        expected = Device.from_persistent_id(device.persistent_id)
        _same_values(read_device(device.persistent_id), expected)
    legacy = f"django_otp.plugins.otp_totp.models.TOTPDevice/{totp.pk}"
    _same_values(read_device(legacy), TOTPDevice.objects.get(pk=totp.pk))
    for persistent_id in [
        f"otp_totp.totpdevice/{totp.pk + 1000}",
        "otp_totp.totpdevice/not-a-number",
        f"otp_totp.totpdevice/{2**70}",
        "no_such_app.device/1",
        "accounts.user/1",
        "garbage",
    ]:
        assert read_device(persistent_id) is None, persistent_id
