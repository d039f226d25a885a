"""The patient's entries on homework in the portal (issue 23, point 3): the questions of each
kind, ranges, one log entry a day, rereading and changing them until the therapist reviews
the homework, a double sending saved once, and another patient's homework out of reach."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from sessions import homework
from sessions.models import AssignmentStatus, HomeworkEntry
from tests.factories import AssignmentFactory, CourseFactory, PatientFactory, SessionFactory
from tests.form_keys import fresh_key, key_on

pytestmark = pytest.mark.django_db

# Wednesday 9 December 2026, 10:00 in London (UTC in winter).
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
SET_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the Monday session that set the homework


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _assignment(course, kind, **kwargs):
    session = SessionFactory(course=course, scheduled_start=SET_AT, status="attended")
    return AssignmentFactory(course=course, session=session, kind=kind, **kwargs)


def _detail(assignment):
    return reverse("portal:homework_detail", kwargs={"assignment_id": assignment.pk})


def _add(assignment):
    return reverse("portal:homework_entry_new", kwargs={"assignment_id": assignment.pk})


def _change(entry):
    return reverse(
        "portal:homework_entry_change",
        kwargs={"assignment_id": entry.assignment_id, "entry_id": entry.pk},
    )


def _send(client, assignment, answers):
    page = client.get(_detail(assignment))
    return client.post(_add(assignment), {"form_key": key_on(page), **answers})


COMMUNICATION = {
    "said": "Could we find half an hour on Sunday to talk about the house?",
    "response": "He sighed, then said yes, after lunch.",
    "feeling": "6",
    "next_time": "Ask earlier in the week, not when he is tired.",
}


@pytest.mark.parametrize(
    ("kind", "questions"),
    [
        (
            "communication",
            ["What I said", "How they responded", "How I felt, from 0 to 10", "next time"],
        ),
        ("log", ["Which day", "My mood that day", "Who I spent time with", "What happened"]),
        ("role_play", ["What I rehearsed or tried", "How it went", "How I felt, from 0 to 10"]),
        ("activity", ["What I did", "How it felt, from 0 to 10", "in a few words"]),
        ("reading", ["What stayed with me"]),
    ],
)
def test_it_asks_the_questions_of_the_homeworks_kind(portal_client, course, kind, questions):
    page = portal_client.get(_detail(_assignment(course, kind))).content.decode()
    for question in questions:
        assert question in page
    # Marking it done or not done stays.
    assert "I did it" in page


def test_it_saves_a_communication_practice_and_shows_it_to_reread(portal_client, course):
    assignment = _assignment(course, "communication")
    response = _send(portal_client, assignment, COMMUNICATION)
    assert response.status_code == 302
    entry = HomeworkEntry.objects.get(assignment=assignment)
    assert (entry.said, entry.feeling, entry.kind) == (COMMUNICATION["said"], 6, "communication")
    page = portal_client.get(_detail(assignment)).content.decode()
    assert "He sighed, then said yes, after lunch." in page
    assert "Ask earlier in the week, not when he is tired." in page
    assert "Change this entry" in page


@pytest.mark.parametrize("feeling", ["11", "-1", "lots"])
def test_it_refuses_a_feeling_outside_0_to_10_and_keeps_the_text(portal_client, course, feeling):
    assignment = _assignment(course, "communication")
    response = _send(portal_client, assignment, {**COMMUNICATION, "feeling": feeling})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose a number from 0 to 10." in page
    assert "Ask earlier in the week, not when he is tired." in page
    assert not HomeworkEntry.objects.exists()


def test_it_refuses_a_mood_above_10_in_a_log(portal_client, course):
    assignment = _assignment(course, "log")
    response = _send(
        portal_client, assignment, {"entry_date": "2026-12-08", "mood": "12", "people": "Marcus"}
    )
    assert response.status_code == 200
    assert "Choose a number from 0 to 10." in response.content.decode()
    assert not HomeworkEntry.objects.exists()


def test_it_keeps_one_log_entry_a_day(portal_client, course):
    assignment = _assignment(course, "log")
    first = {"entry_date": "2026-12-08", "mood": "4", "people": "Marcus", "happened": "Row"}
    assert _send(portal_client, assignment, first).status_code == 302
    again = {"entry_date": "2026-12-08", "mood": "7", "people": "Sam", "happened": "A walk"}
    response = _send(portal_client, assignment, again)
    assert response.status_code == 200
    page = response.content.decode()
    assert "You already have an entry for 8 December 2026." in page
    assert "A walk" in page  # what was typed is still there
    assert (
        _send(portal_client, assignment, {**again, "entry_date": "2026-12-09"}).status_code == 302
    )
    assert list(
        HomeworkEntry.objects.filter(assignment=assignment).values_list("entry_date", "mood")
    ) == [(date(2026, 12, 8), 4), (date(2026, 12, 9), 7)]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2026-12-10", "This day has not come yet."),
        ("2026-12-06", "Please choose a day from 7 December 2026 on"),
    ],
)
def test_it_keeps_a_log_day_between_the_session_and_today(portal_client, course, day, message):
    assignment = _assignment(course, "log")
    response = _send(portal_client, assignment, {"entry_date": day, "mood": "5"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not HomeworkEntry.objects.exists()


def test_the_database_refuses_what_the_form_refuses(course):
    assignment = _assignment(course, "log")
    values = {"clinic": assignment.clinic, "assignment": assignment, "kind": "log"}
    HomeworkEntry.objects.create(**values, entry_date=date(2026, 12, 8), mood=3)
    for bad in (
        {"entry_date": date(2026, 12, 8), "mood": 5},  # a second entry that day
        {"entry_date": date(2026, 12, 9), "mood": 11},
        {"entry_date": date(2026, 12, 9), "mood": None},  # a log entry needs its mood
        {"entry_date": date(2026, 12, 9), "mood": 5, "feeling": 11},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            HomeworkEntry.objects.create(**values, **bad)


def test_a_double_submit_saves_one_entry(portal_client, course):
    assignment = _assignment(course, "communication")
    page = portal_client.get(_detail(assignment))
    data = {"form_key": key_on(page), **COMMUNICATION}
    assert portal_client.post(_add(assignment), data).status_code == 302
    second = portal_client.post(_add(assignment), data, follow=True)
    assert "This entry was already saved, so it was not added twice." in second.content.decode()
    assert HomeworkEntry.objects.filter(assignment=assignment).count() == 1


def test_the_patient_changes_an_entry_until_the_therapist_reviews_it(portal_client, course):
    assignment = _assignment(course, "communication")
    _send(portal_client, assignment, COMMUNICATION)
    entry = HomeworkEntry.objects.get()
    form = portal_client.get(_change(entry)).content.decode()
    assert "Could we find half an hour on Sunday" in form
    edited = {**COMMUNICATION, "feeling": "8", "version": str(entry.version)}
    assert portal_client.post(_change(entry), edited).status_code == 302
    entry.refresh_from_db()
    assert entry.feeling == 8

    assignment.reviewed_in = SessionFactory(course=course, status="attended")
    assignment.status = AssignmentStatus.DONE
    assignment.save()
    page = portal_client.get(_detail(assignment)).content.decode()
    assert "You can read what you wrote below, but it can no longer be changed." in page
    assert "Could we find half an hour on Sunday" in page
    assert "Change this entry" not in page and "Save this entry" not in page

    refused = portal_client.post(
        _change(entry), {**edited, "feeling": "2", "version": str(entry.version)}
    )
    assert refused.status_code == 200
    assert "it can no longer be changed" in refused.content.decode()
    assert "2" in refused.context["form"]["feeling"].value()  # what was typed is kept
    # A page opened before the review still carries a key: its entry is refused too.
    added = portal_client.post(
        _add(assignment),
        {"form_key": fresh_key(homework.ENTRY_FORM, assignment), **COMMUNICATION, "said": "Hi"},
    )
    assert added.status_code == 200
    page = added.content.decode()
    assert "it can no longer be changed" in page
    assert "What you wrote just now (not saved)" in page and "Hi</textarea>" in page
    entry.refresh_from_db()
    assert entry.feeling == 8
    assert HomeworkEntry.objects.count() == 1


def test_a_closed_homework_says_whether_the_patient_marked_it_done(portal_client, course):
    """Read-only, the page still says what the patient answered: done (and when) or not done."""
    assignment = _assignment(course, "communication")
    assignment.reviewed_in = SessionFactory(course=course, status="attended")
    assignment.status = AssignmentStatus.DONE
    assignment.completed_at = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    assignment.save()
    page = portal_client.get(_detail(assignment)).content.decode()
    assert "You marked it as done on 4 March." in page

    assignment.status = AssignmentStatus.NOT_DONE
    assignment.completed_at = None
    assignment.save()
    page = portal_client.get(_detail(assignment)).content.decode()
    assert "You marked it as done" not in page
    assert "It is marked as not done" in page


def test_the_note_reviewing_the_homework_locks_its_entries(course, therapist):
    assignment = _assignment(course, "log")
    homework.homework_entry_add(
        assignment=assignment, values={"entry_date": date(2026, 12, 8), "mood": 4}
    )
    from sessions import services

    session = SessionFactory(course=course, scheduled_start=NOW, status="attended")
    note = services.note_start(session=session, by=therapist)
    services.note_save(
        note=note,
        by=therapist,
        data={"risk_level": "none"},
        expected_version=note.version,
        homework_reviews={assignment.pk: "done"},
    )
    assignment.refresh_from_db()
    with pytest.raises(homework.ValidationError, match="no longer be changed"):
        homework.homework_entry_add(
            assignment=assignment, values={"entry_date": date(2026, 12, 9), "mood": 6}
        )
    entry = HomeworkEntry.objects.get()
    with pytest.raises(homework.ValidationError, match="no longer be changed"):
        homework.homework_entry_edit(
            entry=entry, values={"entry_date": date(2026, 12, 8), "mood": 9}, expected_version=1
        )


def test_a_change_from_a_stale_window_is_refused_with_the_text_kept(portal_client, course):
    assignment = _assignment(course, "reading")
    _send(portal_client, assignment, {"stayed_with_me": "Grief comes in waves."})
    entry = HomeworkEntry.objects.get()
    portal_client.post(_change(entry), {"stayed_with_me": "Waves.", "version": "1"})
    response = portal_client.post(
        _change(entry), {"stayed_with_me": "It is allowed to be sad.", "version": "1"}
    )
    assert response.status_code == 409
    assert "It is allowed to be sad." in response.content.decode()
    entry.refresh_from_db()
    assert entry.stayed_with_me == "Waves."


def test_another_patients_homework_and_entries_are_not_found(portal_client, course):
    mine = _assignment(course, "reading")
    other_course = CourseFactory(patient=PatientFactory(primary_therapist=course.therapist))
    theirs = _assignment(other_course, "reading")
    their_entry = homework.homework_entry_add(
        assignment=theirs, values={"stayed_with_me": "Private"}
    )
    assert portal_client.get(_detail(theirs)).status_code == 404
    assert portal_client.post(_add(theirs), {"stayed_with_me": "x"}).status_code == 404
    # Their entry under my homework's address is not found either.
    url = reverse(
        "portal:homework_entry_change",
        kwargs={"assignment_id": mine.pk, "entry_id": their_entry.pk},
    )
    assert portal_client.get(url).status_code == 404
    assert portal_client.post(url, {"stayed_with_me": "x", "version": "1"}).status_code == 404
    their_entry.refresh_from_db()
    assert their_entry.stayed_with_me == "Private"


def test_a_reviewed_homework_with_no_entries_says_none_were_written_not_yet(portal_client, course):
    assignment = _assignment(course, "log")
    page = portal_client.get(_detail(assignment)).content.decode()
    assert "Nothing written yet." in page and "You did not write anything here." not in page

    assignment.reviewed_in = SessionFactory(course=course, status="attended")
    assignment.status = AssignmentStatus.DONE
    assignment.save()
    page = portal_client.get(_detail(assignment)).content.decode()
    assert "it can no longer be changed" in page
    assert "You did not write anything here." in page and "Nothing written yet." not in page
