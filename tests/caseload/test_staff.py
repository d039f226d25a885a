from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse

from ipt_clinic.accounts.models import Role, User
from phases.models import CourseStatus, TreatmentCourse
from tests.conftest import login
from tests.factories import PatientFactory
from tests.outbox_run import deliver_due


def test_it_lists_the_clinics_staff_only(
    admin_client, therapist, other_therapist, other_clinic_admin
):
    response = admin_client.get(reverse("caseload:staff"))
    body = response.content.decode()
    assert response.status_code == 200
    assert therapist.email in body and other_therapist.email in body
    assert other_clinic_admin.email not in body


def test_it_invites_a_therapist_by_email(admin_client, clinic):
    response = admin_client.post(
        reverse("caseload:staff_invite"),
        {"email": "nia@example.org", "first_name": "Nia", "last_name": "Newman"},
    )
    assert response.status_code == 302
    invited = User.objects.get(email="nia@example.org")
    assert invited.clinic == clinic
    assert invited.role == Role.THERAPIST
    assert not invited.is_active
    assert deliver_due() == ["sent"]
    assert [m.to for m in mail.outbox] == [["nia@example.org"]]


def test_it_refuses_an_email_already_taken(admin_client, therapist):
    response = admin_client.post(
        reverse("caseload:staff_invite"),
        {"email": therapist.email, "first_name": "A", "last_name": "B"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_it_deactivates_ends_sessions_and_lists_patients(
    make, admin_client, therapist, other_therapist
):
    course = make(therapist)
    # Deactivation waits for the active courses to be reassigned (or ended); this patient's
    # course has ended, so they are still listed to reassign.
    TreatmentCourse.objects.filter(pk=course.pk).update(status=CourseStatus.COMPLETED)
    waiting = PatientFactory(primary_therapist=therapist)
    bobs = make(other_therapist)
    therapist_client = login(Client(), therapist)
    session_key = therapist_client.session.session_key
    assert therapist_client.get(reverse("caseload:courses")).status_code == 404  # logged in

    response = admin_client.post(reverse("caseload:staff_deactivate"), {"member": therapist.pk})
    assert response.status_code == 302
    therapist.refresh_from_db()
    assert not therapist.is_active and therapist.deactivated_at is not None
    assert not Session.objects.filter(session_key=session_key).exists()
    after = therapist_client.get(reverse("caseload:courses"))
    assert after.status_code == 302 and reverse("accounts:login") in after["Location"]

    listing = admin_client.get(response["Location"])
    patients = {patient.pk for patient in listing.context["patients"]}
    assert patients == {course.patient_id, waiting.pk}
    assert bobs.patient_id not in patients


def test_it_will_not_deactivate_another_clinics_staff(other_admin_client, therapist):
    response = other_admin_client.post(
        reverse("caseload:staff_deactivate"), {"member": therapist.pk}
    )
    assert response.status_code == 302
    therapist.refresh_from_db()
    assert therapist.is_active


def test_it_will_not_list_another_clinics_therapists_patients(other_admin_client, therapist):
    response = other_admin_client.get(reverse("caseload:reassign"), {"from": therapist.pk})
    assert response.status_code == 404


def test_it_is_not_found_for_a_therapist(therapist_client, other_therapist):
    assert therapist_client.get(reverse("caseload:staff")).status_code == 404
    response = therapist_client.post(
        reverse("caseload:staff_deactivate"), {"member": other_therapist.pk}
    )
    assert response.status_code == 404
    other_therapist.refresh_from_db()
    assert other_therapist.is_active
