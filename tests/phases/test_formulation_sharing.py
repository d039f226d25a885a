"""The formulation in the patient's words: shared explicitly, withdrawn, asked again when the
wording changes; the patient's answers kept and audited; the course page shows them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ipt_clinic.audit.models import AuditAction, AuditEvent
from ipt_clinic.editing import StaleEditError
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused
from phases.formulation_sharing import (
    ANSWER_FORM,
    formulation_answer_record,
    formulation_share,
    formulation_withdraw,
    patient_formulation_save,
    shared_formulation,
)
from phases.models import FormulationAnswer, FormulationShare
from tests.form_keys import fresh_key

pytestmark = pytest.mark.django_db

WORDING = "Your low mood began when you retired and lost the daily company at work."
NEW_WORDING = "Your low mood began after you retired, and the arguments with Tom made it worse."
NOON = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def _share(course, therapist, text=WORDING):
    course.refresh_from_db()
    return formulation_share(
        course=course, by=therapist, text=text, expected_version=course.version
    )


def _audits(course, summary_part):
    return AuditEvent.objects.filter(
        patient_id=course.patient_id, summary__contains=summary_part
    ).count()


def test_it_shares_nothing_until_the_therapist_shares(course, therapist):
    patient_formulation_save(
        course=course, by=therapist, text=WORDING, expected_version=course.version
    )
    course.refresh_from_db()
    assert course.patient_formulation == WORDING
    assert not FormulationShare.objects.filter(course=course).exists()
    assert shared_formulation(course).share is None


def test_it_shares_keeps_the_wording_and_audits_it(course, therapist):
    share = _share(course, therapist)
    course.refresh_from_db()
    assert share.text == WORDING and share.shared_by == therapist and share.withdrawn_at is None
    assert course.patient_formulation == WORDING
    event = AuditEvent.objects.get(object_type="phases.formulationshare", object_id=share.pk)
    assert event.action == AuditAction.UPDATE
    assert event.actor_id == therapist.pk
    assert "shared with the patient" in event.summary


def test_a_second_click_on_share_changes_nothing(course, therapist):
    first = _share(course, therapist)
    again = _share(course, therapist)
    assert again.pk == first.pk
    assert FormulationShare.objects.filter(course=course).count() == 1
    assert _audits(course, "Formulation shared") == 1


def test_it_refuses_an_empty_wording(course, therapist):
    with pytest.raises(ValidationError):
        _share(course, therapist, text="   ")
    assert not FormulationShare.objects.exists()


def test_it_refuses_a_stale_wording(course, therapist):
    version = course.version
    patient_formulation_save(course=course, by=therapist, text="First", expected_version=version)
    with pytest.raises(StaleEditError):
        formulation_share(course=course, by=therapist, text=WORDING, expected_version=version)
    assert not FormulationShare.objects.exists()


def test_withdrawing_ends_the_share_and_is_audited(course, therapist, other_therapist):
    share = _share(course, therapist)
    withdrawn = formulation_withdraw(course=course, by=other_therapist)
    assert withdrawn.pk == share.pk
    share.refresh_from_db()
    assert share.withdrawn_at is not None and share.withdrawn_by == other_therapist
    assert shared_formulation(course).share is None
    assert _audits(course, "no longer shared") == 1
    # Withdrawing again: nothing to withdraw, nothing written.
    assert formulation_withdraw(course=course, by=therapist) is None
    assert _audits(course, "no longer shared") == 1


def _answer(share, answer="agree", comment="", key=None):
    return formulation_answer_record(
        share=share,
        patient_id=share.course.patient_id,
        answer=answer,
        comment=comment,
        form_key=key,
    )


def test_the_patients_answer_is_recorded_with_its_time_and_audited(course, therapist):
    share = _share(course, therapist)
    with time_machine.travel(NOON, tick=False):
        answer = _answer(share, "talk", "Not sure about the work part.")
    assert answer.at == NOON
    assert answer.answer == "talk" and answer.comment == "Not sure about the work part."
    event = AuditEvent.objects.get(object_type="phases.formulationanswer", object_id=answer.pk)
    assert event.action == AuditAction.PORTAL_ACTION
    assert event.actor_kind == "patient"
    assert "I'd like to talk about this" in event.summary
    assert shared_formulation(course).answer == answer


def test_a_double_submit_records_one_answer(course, therapist):
    share = _share(course, therapist)
    key = fresh_key(ANSWER_FORM, share)
    first = _answer(share, key=key)
    with pytest.raises(AlreadySaved) as saved:
        _answer(share, key=key)
    assert saved.value.record == first
    with pytest.raises(SubmissionRefused):
        _answer(share, "talk", key=key)
    assert FormulationAnswer.objects.count() == 1
    assert _audits(course, "Answered the shared formulation") == 1


def test_a_changed_wording_asks_again_and_keeps_the_old_answer(course, therapist):
    share = _share(course, therapist)
    old = _answer(share, "agree")
    new_share = _share(course, therapist, NEW_WORDING)
    share.refresh_from_db()
    assert share.withdrawn_at is not None  # the old wording is no longer shown
    assert new_share.pk != share.pk
    shared = shared_formulation(course)
    assert shared.share == new_share
    assert shared.answer is None  # asked again
    assert shared.earlier_answers == [old]
    assert FormulationAnswer.objects.get(pk=old.pk).answer == "agree"
    assert _audits(course, "the patient is asked again") == 1
    # An answer sent from a page showing the old wording is refused.
    with pytest.raises(ValidationError):
        _answer(share, "agree")
    with pytest.raises(SubmissionRefused):
        _answer(new_share, key=fresh_key(ANSWER_FORM, share))
    newer = _answer(new_share, "agree")
    assert shared_formulation(course).answer == newer


def test_the_same_wording_shared_again_keeps_its_answer(course, therapist):
    share = _share(course, therapist)
    answer = _answer(share)
    formulation_withdraw(course=course, by=therapist)
    _share(course, therapist)
    assert shared_formulation(course).answer == answer


def test_a_withdrawn_wording_cannot_be_answered(course, therapist):
    share = _share(course, therapist)
    formulation_withdraw(course=course, by=therapist)
    with pytest.raises(ValidationError):
        _answer(share)
    assert not FormulationAnswer.objects.exists()


def test_another_patient_cannot_answer(course, therapist, patient):
    share = _share(course, therapist)
    with pytest.raises(ValidationError):
        formulation_answer_record(share=share, patient_id=patient.pk + 1000, answer="agree")
    assert not FormulationAnswer.objects.exists()


# --- the therapist's pages ------------------------------------------------------------------


def test_the_page_prefills_the_clinical_formulation_and_shares_on_request(
    course, therapist, therapist_client
):
    course.formulation = "Onset after retirement; role transition; impasse with partner."
    course.save()
    url = reverse("phases:formulation_for_patient", args=[course.pk])
    page = therapist_client.get(url).content.decode()
    assert "Onset after retirement; role transition" in page
    course.refresh_from_db()
    response = therapist_client.post(
        url, {"version": course.version, "patient_formulation": WORDING, "action": "save"}
    )
    assert response.status_code == 302
    assert not FormulationShare.objects.exists()
    course.refresh_from_db()
    response = therapist_client.post(
        url, {"version": course.version, "patient_formulation": WORDING, "action": "share"}
    )
    assert response.status_code == 302
    assert FormulationShare.objects.get(course=course).text == WORDING


def test_an_empty_wording_is_refused_on_the_page_with_a_message(course, therapist_client):
    url = reverse("phases:formulation_for_patient", args=[course.pk])
    response = therapist_client.post(
        url, {"version": course.version, "patient_formulation": "  ", "action": "share"}
    )
    assert response.status_code == 200
    assert "Write the formulation in the patient" in response.content.decode()
    assert not FormulationShare.objects.exists()


def test_the_course_page_shows_the_shared_wording_and_the_answer(
    course, therapist, therapist_client
):
    url = reverse("phases:course", args=[course.pk])
    assert "Not shared" in therapist_client.get(url).content.decode()
    share = _share(course, therapist)
    page = therapist_client.get(url).content.decode()
    assert WORDING in page and "has not answered yet" in page
    _answer(share, "talk", "The part about work feels wrong.")
    page = therapist_client.get(url).content.decode()
    assert "would like to talk about this" in page
    assert "The part about work feels wrong." in page
    _share(course, therapist, NEW_WORDING)
    page = therapist_client.get(url).content.decode()
    assert "asked again after it changed" in page
    assert "Earlier answers (1)" in page


def test_the_course_page_costs_the_same_with_more_answers(course, therapist, therapist_client):
    url = reverse("phases:course", args=[course.pk])
    share = _share(course, therapist)
    _answer(share)
    with CaptureQueriesContext(connection) as few:
        therapist_client.get(url)
    for i in range(5):
        share = _share(course, therapist, f"{WORDING} ({i})")
        _answer(share, "talk", "Hmm")
    with CaptureQueriesContext(connection) as many:
        therapist_client.get(url)
    assert len(few) == len(many)


def test_withdraw_from_the_course_page(course, therapist, therapist_client):
    _share(course, therapist)
    response = therapist_client.post(reverse("phases:formulation_withdraw", args=[course.pk]))
    assert response.status_code == 302
    assert shared_formulation(course).share is None


def test_an_answer_given_days_ago_keeps_its_day(course, therapist, therapist_client):
    share = _share(course, therapist)
    with time_machine.travel(NOON - timedelta(days=3), tick=False):
        _answer(share)
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "6 Dec 2026" in page


def test_the_course_page_says_the_patient_agreed_in_the_portal(course, therapist, therapist_client):
    course.formulation = "Role transition after retirement."
    course.save()
    url = reverse("phases:course", args=[course.pk])
    assert "Not yet agreed with the patient" in therapist_client.get(url).content.decode()
    _answer(_share(course, therapist), "agree")
    page = therapist_client.get(url).content.decode()
    assert "Not yet agreed with the patient" not in page
    assert "Jamie agreed to the wording shared in the portal" in page
