"""The note's techniques are IPT's (issue 22): the manual's list is offered, two techniques of
other therapies offered once are not, and a note that recorded one of them keeps it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from phases.models import Phase
from sessions import services
from sessions.models import SessionNote
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    course.phase = Phase.PROBLEM_SOLVING
    course.save()
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=1), status="attended"
    )
    return services.note_start(session=session, by=therapist)


def test_the_note_offers_the_manuals_techniques_only(therapist_client, note):
    page = therapist_client.get(reverse("therapy:note", args=[note.session_id])).content.decode()
    for label in (
        "Exploratory techniques",
        "Encouragement of affect",
        "Clarification",
        "Communication analysis",
        "Use of the therapeutic relationship",
        "Directive techniques (advice, suggestion, education)",
        "Decision analysis",
        "Role play",
    ):
        assert label in page
    assert "Cognitive restructuring" not in page
    assert "Assertiveness training" not in page


def test_a_technique_of_another_therapy_is_refused_on_a_new_note(note, therapist):
    with pytest.raises(ValidationError):
        services.note_save(
            note=note,
            by=therapist,
            data={"risk_level": "none", "techniques": ["cognitive_restructuring"]},
            expected_version=1,
        )


def test_a_note_that_recorded_one_keeps_it(therapist_client, note, therapist):
    SessionNote.objects.filter(pk=note.pk).update(techniques=["assertiveness_training"])
    page = therapist_client.get(reverse("therapy:note", args=[note.session_id])).content.decode()
    assert "Assertiveness training (not an IPT technique)" in page
    note.refresh_from_db()
    saved = services.note_save(
        note=note,
        by=therapist,
        data={"risk_level": "none", "techniques": ["assertiveness_training", "role_play"]},
        expected_version=note.version,
    )
    assert saved.techniques == ["role_play", "assertiveness_training"]
