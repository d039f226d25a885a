"""A patient who sends their questionnaire, goes Back and changes an answer sends a
correction: it is recorded and scored, and when it raises item 9 the thank-you page gives
the crisis information and the therapist sees an open risk flag."""

from django.urls import reverse

from ipt_clinic.audit.models import AuditEvent
from sessions.models import Measure
from sessions.portal_activity import portal_activity_since
from tests.form_keys import key_on

URL = reverse("portal:questionnaire", kwargs={"instrument": "phq9"})
CRISIS = "thinking about hurting yourself"


def _answers(values: list[int], key: str) -> dict:
    return {"form_key": key, **{f"item_{n}": v for n, v in enumerate(values, start=1)}}


def test_it_records_item_9_raised_after_going_back_as_a_flagged_correction(
    portal_client, course, therapist
):
    key = key_on(portal_client.get(URL))
    sent = portal_client.post(URL, _answers([1] * 8 + [0], key), follow=True)
    assert CRISIS not in sent.content.decode()
    first = Measure.objects.get(course=course)

    corrected = portal_client.post(URL, _answers([1] * 8 + [3], key), follow=True)
    assert CRISIS in corrected.content.decode()
    correction = Measure.objects.get(corrects=first)
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert correction.risk_flag and correction.total == 11
    assert correction.entered_by_kind == "patient"
    assert corrected.redirect_chain[-1][0] == reverse(
        "portal:questionnaire_thanks", kwargs={"measure_id": correction.pk}
    )
    course.refresh_from_db()
    assert course.latest_phq9 == 11
    assert AuditEvent.objects.filter(
        object_id=correction.pk, summary="PHQ-9 corrected through the portal; item 9 positive"
    ).exists()
    # The therapist's list of portal activity shows the corrected questionnaire, flagged.
    assert [(a.measure, a.risk_flag) for a in portal_activity_since(therapist)] == [
        (correction, True)
    ]


def test_it_keeps_one_record_for_the_same_answers_sent_twice(portal_client, course):
    data = _answers([1] * 8 + [2], key_on(portal_client.get(URL)))
    first = portal_client.post(URL, data)
    second = portal_client.post(URL, data, follow=True)
    assert second.redirect_chain == [(first["Location"], 302)]
    assert CRISIS in second.content.decode()
    assert Measure.objects.filter(course=course).count() == 1
