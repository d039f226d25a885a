"""A note signed in another tab while it was being edited: saving answers with the signed note
and the text just typed, ready to add as an addendum; nothing typed is lost."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import NoteAddendum, SessionNote
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(course, therapist):
    session = SessionFactory(
        course=course, scheduled_start=timezone.now() - timedelta(hours=2), status="attended"
    )
    note = services.note_start(session=session, by=therapist)
    return services.note_save(
        note=note,
        by=therapist,
        data={"symptoms_reviewed": "Low mood since the move.", "risk_level": "none"},
        expected_version=note.version,
    )


def test_it_keeps_the_typed_text_when_the_note_was_signed_in_another_tab(
    therapist_client, note, therapist
):
    opened_at = note.version
    services.note_sign(note=note, by=therapist)  # the other tab

    response = therapist_client.post(
        reverse("therapy:note", args=[note.session_id]),
        {
            "version": opened_at,
            "symptoms_reviewed": "Low mood since the move.",
            "narrative": "She mentioned her sister's visit at the very end.",
            "risk_level": "low",
        },
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "signed and locked" in page
    assert "Low mood since the move." in page  # the signed note
    addendum_box = page.split('id="id_addendum_text"', 1)[1].split("</textarea>", 1)[0]
    assert "Other notes: She mentioned her sister&#x27;s visit at the very end." in addendum_box
    assert "Risk check: Passive thoughts, no plan" in addendum_box
    assert "Symptoms reviewed" not in addendum_box  # unchanged text is not repeated
    assert reverse("therapy:note_addendum", args=[note.session_id]) in page
    assert "Add it as an addendum" in page
    stored = SessionNote.objects.get(pk=note.pk)
    assert (stored.narrative, stored.risk_level, stored.version) == ("", "none", opened_at)

    # Sent as it stands (with whatever hidden fields the box carries), it becomes the addendum.
    box = page.split(f'action="{reverse("therapy:note_addendum", args=[note.session_id])}"')[1]
    box = box.split("</form>", 1)[0]
    sent = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', box))
    sent["text"] = html.unescape(addendum_box.split(">", 1)[1])
    therapist_client.post(reverse("therapy:note_addendum", args=[note.session_id]), sent)
    assert NoteAddendum.objects.get(note=note).text == (
        "Other notes: She mentioned her sister's visit at the very end.\n\n"
        "Risk check: Passive thoughts, no plan"
    )
