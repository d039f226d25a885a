import pytest
from django.core.exceptions import ValidationError

from ipt_clinic.audit.models import AuditEvent
from letters.models import DischargeLetter
from letters.services import letter_draft
from tests.factories import CourseFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_it_drafts_the_letter_from_the_record(ended_course, therapist):
    letter = letter_draft(course=ended_course, by=therapist)

    assert "from 20 August 2026 to 26 November 2026" in letter.course_summary
    assert "11 of the 12 sessions agreed were held" in letter.course_summary
    assert "Role dispute (with Tom, renegotiation)" in letter.problem_areas
    assert letter.formulation.startswith("Low mood began when the arguments with Tom")
    assert "PHQ-9: 18 at the start, 6 at the end (down 12 points)." in letter.outcome
    assert "GAD-7: 12 at the start, 9 at the end (down 3 points)." in letter.outcome
    assert "response to treatment: the PHQ-9 fell by 67%" in letter.outcome
    assert "5 or more: not in remission" in letter.outcome
    assert letter.warning_signs == "Staying in bed past ten; not answering Tom's messages."
    assert "Medication review — Sleep is still poor." in letter.recommendations
    assert "If symptoms return: Ring the clinic and book a review." in letter.recommendations
    assert letter.signed_at is None and letter.version == 1


def test_it_says_when_the_scores_show_no_response(ended_course, therapist):
    ended_course.latest_phq9 = 20
    ended_course.save()
    letter = letter_draft(course=ended_course, by=therapist)
    assert "PHQ-9: 18 at the start, 20 at the end (up 2 points)." in letter.outcome
    assert "not a response to treatment: the PHQ-9 rose by 11%" in letter.outcome


def test_it_says_how_a_dropped_out_course_ended(ended_course, therapist):
    ended_course.status = "dropped_out"
    ended_course.end_reason = "Moved to Leeds"
    ended_course.save()
    letter = letter_draft(course=ended_course, by=therapist)
    assert "The course ended early: Moved to Leeds." in letter.course_summary


def test_it_refuses_a_course_that_has_not_ended(therapist):
    course = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    with pytest.raises(ValidationError, match="once the course has ended"):
        letter_draft(course=course, by=therapist)
    assert not DischargeLetter.objects.exists()


def test_it_gives_back_the_open_draft_rather_than_a_second(ended_course, therapist):
    first = letter_draft(course=ended_course, by=therapist)
    assert letter_draft(course=ended_course, by=therapist) == first
    assert DischargeLetter.objects.count() == 1
    assert (
        AuditEvent.objects.filter(action="create", summary="Discharge letter drafted").count() == 1
    )


def test_a_letter_is_never_deleted(ended_course, therapist):
    letter = letter_draft(course=ended_course, by=therapist)
    with pytest.raises(RuntimeError):
        letter.delete()
    assert DischargeLetter.objects.filter(pk=letter.pk).exists()


@pytest.mark.parametrize(
    ("name", "salutation"),
    [
        ("Dr Helen Marsh", "Dr Marsh"),
        ("Dr. Helen Anne Marsh", "Dr. Marsh"),
        ("Dr Marsh", "Dr Marsh"),
        ("Helen Marsh", "Helen Marsh"),
        ("  ", "colleague"),
        ("", "colleague"),
    ],
)
def test_the_letter_greets_its_recipient_as_a_british_letter_does(name, salutation):
    assert DischargeLetter(recipient_name=name).salutation == salutation


def test_it_gives_the_wsas_with_its_bands_when_the_course_measured_it(ended_course, therapist):
    ended_course.baseline_wsas = 24
    ended_course.latest_wsas = 9
    ended_course.save()
    letter = letter_draft(course=ended_course, by=therapist)
    assert (
        "WSAS (Work and Social Adjustment Scale, 0-40): 24 at the start, 9 at the end "
        "(down 15 points); severe impairment at the start, subclinical at the end."
    ) in letter.outcome
    # The response and remission are still the PHQ-9's.
    assert "response to treatment: the PHQ-9 fell by 67%" in letter.outcome


def test_it_leaves_the_wsas_out_when_the_course_never_measured_it(ended_course, therapist):
    letter = letter_draft(course=ended_course, by=therapist)
    assert "WSAS" not in letter.outcome
