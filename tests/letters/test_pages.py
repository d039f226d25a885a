import shutil
import subprocess

import pytest
from django.test import Client
from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from letters.models import DischargeLetter
from letters.services import letter_draft
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _form(letter, **changes) -> dict:
    data = {
        "version": letter.version,
        "recipient_name": "Dr Priya Shah",
        "recipient_role": "gp",
        "recipient_address": "Riverside Surgery\n1 Mill Lane",
        **{name: getattr(letter, name) for name in DischargeLetter.SECTIONS},
    }
    data.update(changes)
    return data


def test_the_therapist_drafts_from_the_course_page(ended_course, therapist_client):
    page = therapist_client.get(reverse("phases:course", args=[ended_course.pk]))
    assert b"Draft the discharge letter" in page.content
    response = therapist_client.post(reverse("letters:create", args=[ended_course.pk]))
    letter = DischargeLetter.objects.get()
    assert response["Location"] == reverse("letters:edit", args=[letter.pk])


def test_it_saves_an_edit_and_lists_the_draft_on_the_patient_page(
    ended_course, therapist, therapist_client
):
    letter = letter_draft(course=ended_course, by=therapist)
    response = therapist_client.post(
        reverse("letters:edit", args=[letter.pk]), _form(letter, formulation="In plain words.")
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert (letter.formulation, letter.recipient_name, letter.version) == (
        "In plain words.",
        "Dr Priya Shah",
        2,
    )
    page = therapist_client.get(reverse("patients:detail", args=[ended_course.patient_id]))
    assert b"Letter to Dr Priya Shah" in page.content
    assert b"Draft" in page.content


def test_it_refuses_a_stale_save_and_keeps_what_was_typed(
    ended_course, therapist, therapist_client
):
    letter = letter_draft(course=ended_course, by=therapist)
    opened = _form(letter)
    therapist_client.post(
        reverse("letters:edit", args=[letter.pk]), _form(letter, formulation="Saved first.")
    )
    response = therapist_client.post(
        reverse("letters:edit", args=[letter.pk]), {**opened, "formulation": "Typed second."}
    )
    assert response.status_code == 409
    assert b"Changed by someone else" in response.content
    assert b"Typed second." in response.content
    letter.refresh_from_db()
    assert letter.formulation == "Saved first."


def test_signing_locks_the_letter(ended_course, therapist, therapist_client):
    letter = letter_draft(course=ended_course, by=therapist)
    confirm = therapist_client.get(reverse("letters:sign", args=[letter.pk]))
    assert b"Sign and lock the letter?" in confirm.content
    therapist_client.post(reverse("letters:sign", args=[letter.pk]), {"version": letter.version})
    letter.refresh_from_db()
    assert letter.signed_at is not None and letter.signed_by == therapist

    response = therapist_client.post(
        reverse("letters:edit", args=[letter.pk]), _form(letter, formulation="Changed after.")
    )
    assert response.status_code == 409
    assert b"signed and locked" in response.content
    letter.refresh_from_db()
    assert letter.formulation != "Changed after."
    assert AuditEvent.objects.filter(action="sign", object_id=str(letter.pk)).count() == 1


def test_it_refuses_to_sign_a_letter_edited_since_the_page_was_opened(
    ended_course, therapist, therapist_client
):
    letter = letter_draft(course=ended_course, by=therapist)
    therapist_client.post(reverse("letters:edit", args=[letter.pk]), _form(letter))
    response = therapist_client.post(reverse("letters:sign", args=[letter.pk]), {"version": 1})
    assert response.status_code == 409
    letter.refresh_from_db()
    assert letter.signed_at is None


def test_a_correction_is_a_new_letter_that_supersedes(ended_course, therapist, therapist_client):
    letter = letter_draft(course=ended_course, by=therapist)
    therapist_client.post(reverse("letters:edit", args=[letter.pk]), _form(letter))
    therapist_client.post(reverse("letters:sign", args=[letter.pk]), {"version": 2})
    therapist_client.post(reverse("letters:create", args=[ended_course.pk]))
    replacement = DischargeLetter.objects.exclude(pk=letter.pk).get()
    assert replacement.supersedes == letter
    assert replacement.recipient_name == "Dr Priya Shah"
    assert replacement.signed_at is None
    page = therapist_client.get(reverse("phases:course", args=[ended_course.pk]))
    assert b"(replaced by a later letter)" in page.content


def test_the_clinic_admin_reads_but_does_not_sign(ended_course, therapist, clinic_admin):
    letter = letter_draft(course=ended_course, by=therapist)
    admin = login(Client(), clinic_admin)
    page = admin.get(reverse("letters:detail", args=[letter.pk]))
    assert page.status_code == 200
    assert b"Sign and lock" not in page.content
    assert admin.post(reverse("letters:sign", args=[letter.pk]), {"version": 1}).status_code == 404
    letter.refresh_from_db()
    assert letter.signed_at is None
    viewed = AuditEvent.objects.filter(action="view", object_id=str(letter.pk), actor=clinic_admin)
    assert viewed.count() == 1


def test_the_pdf_renders_a_page(ended_course, therapist, therapist_client, tmp_path):
    letter = letter_draft(course=ended_course, by=therapist)
    response = therapist_client.get(reverse("letters:pdf", args=[letter.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_id=str(letter.pk)).count() == 1

    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(response.content)
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is needed to look at the PDF's page"
    subprocess.run(  # noqa: S603 - a fixed program on a file the test wrote
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    (page,) = tmp_path.glob("page*.png")
    png = page.read_bytes()
    assert png.startswith(b"\x89PNG")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    # A4 at 50 dpi: 8.27 x 11.69 inches.
    assert abs(width - 413) <= 1 and abs(height - 585) <= 1
    assert len(png) > 5_000  # text on the page, not a blank sheet
