"""The worksheet pages: written from the session (or its note), read on the course page and in
the next session's note, each counting as its technique ticked on the note."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from phases.models import Phase
from sessions import services, worksheets
from sessions.models import Assignment, SessionNote, Worksheet
from tests.conftest import login
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ProblemAreaFactory,
    RelationshipFactory,
    SessionFactory,
)
from tests.form_keys import key_on

pytestmark = pytest.mark.django_db

EXCHANGE = {
    "incident": "Marcus came home late without calling.",
    "patient_said": "You never think about anyone but yourself.",
    "patient_meant": "I was worried.",
    "other_said": "Here we go again.",
    "how_heard": "She heard contempt; he heard an attack.",
    "patient_felt": "Hurt, then furious.",
    "alternatives": "Say she was worried.",
    "will_try": "Tell him how the waiting feels.",
}
ROLE_PLAY = {
    "scene": "Asking Marcus to text when he is late",
    "roles": "Rachel as herself, the therapist as Marcus",
    "rehearsed": "Saying 'I worry' instead of 'you never'",
    "how_it_went": "Easier the second time",
    "follow_on": "Say it to Marcus once this week, at a calm moment.",
}


def _course(therapist, sessions: int = 2):
    patient = PatientFactory(primary_therapist=therapist, first_name="Rachel", last_name="Kemp")
    course = CourseFactory(patient=patient, phase=Phase.PROBLEM_SOLVING)
    area = ProblemAreaFactory(course=course, kind="role_dispute", old_role="", new_role="")
    marcus = RelationshipFactory(patient=patient, name="Marcus", kind="partner")
    start = timezone.now() - timedelta(days=7 * sessions)
    held = [
        SessionFactory(
            course=course,
            scheduled_start=start + timedelta(days=7 * n),
            status="attended",
            phase=Phase.PROBLEM_SOLVING,
        )
        for n in range(sessions)
    ]
    return course, area, marcus, held


def _write(session, area, person, by, kind="communication_analysis", **changes):
    content = {"communication_analysis": EXCHANGE, "role_play": ROLE_PLAY}[kind]
    return worksheets.worksheet_create(
        session=session,
        by=by,
        kind=kind,
        problem_area=area,
        relationship=person,
        **{**content, **changes},
    )


def _note(session, by) -> SessionNote:
    return services.note_start(session=session, by=by)


def test_it_writes_a_communication_analysis_from_the_session_page(therapist_client, therapist):
    _course_, area, marcus, (session, _later) = _course(therapist)
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    new_url = reverse("therapy:worksheet_new", args=[session.pk, "communication-analysis"])
    assert f'href="{new_url}"' in page
    form = therapist_client.get(new_url)
    assert form.status_code == 200
    assert "The other person (from the inventory)" in form.content.decode()
    data = {
        "problem_area": area.pk,
        "relationship": marcus.pk,
        "form_key": key_on(form),
        **EXCHANGE,
    }
    response = therapist_client.post(new_url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("therapy:session", args=[session.pk])
    # Sent twice (a double click): one worksheet.
    again = therapist_client.post(new_url, data, follow=True)
    assert "Already saved" in again.content.decode()
    worksheet = Worksheet.objects.get()
    assert (worksheet.session, worksheet.problem_area, worksheet.relationship) == (
        session,
        area,
        marcus,
    )
    assert worksheet.how_heard == EXCHANGE["how_heard"]
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    listed = page[page.index('id="session-worksheets"') :]
    assert "Communication analysis" in listed and "Marcus came home late" in listed


def test_it_says_what_is_missing_and_keeps_what_was_typed(therapist_client, therapist):
    _course_, area, _marcus, (session, _later) = _course(therapist)
    new_url = reverse("therapy:worksheet_new", args=[session.pk, "communication-analysis"])
    form = therapist_client.get(new_url)
    response = therapist_client.post(
        new_url, {"form_key": key_on(form), "will_try": "Text him first", "incident": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose the problem area this work was about." in page
    assert "Say what the incident was." in page
    assert "Text him first" in page
    assert not Worksheet.objects.exists()


def test_a_decision_analysis_takes_each_option_with_its_pros_and_cons(therapist_client, therapist):
    _course_, area, _marcus, (session, _later) = _course(therapist)
    new_url = reverse("therapy:worksheet_new", args=[session.pk, "decision-analysis"])
    form = therapist_client.get(new_url)
    page = form.content.decode()
    assert 'name="option_3"' in page and "More options (up to 8)" in page
    response = therapist_client.post(
        new_url,
        {
            "form_key": key_on(form),
            "problem_area": area.pk,
            "decision": "Whether to stay in the marriage",
            "option_1": "Ask for couples counselling",
            "option_1_pros": "Keeps the family together",
            "option_1_cons": "Marcus may refuse",
            "option_2": "Move out for a month",
            "option_2_pros": "Space to think",
            "option_2_cons": "Costly; the children",
            "option_5": "Do nothing",
            "choice": "Counselling first",
            "first_step": "Phone the service on Monday",
        },
    )
    assert response.status_code == 302
    worksheet = Worksheet.objects.get()
    assert worksheet.options == [
        {
            "option": "Ask for couples counselling",
            "pros": "Keeps the family together",
            "cons": "Marcus may refuse",
        },
        {
            "option": "Move out for a month",
            "pros": "Space to think",
            "cons": "Costly; the children",
        },
        {"option": "Do nothing", "pros": "", "cons": ""},
    ]
    shown = therapist_client.get(reverse("therapy:worksheet", args=[worksheet.pk]))
    text = shown.content.decode()
    assert "Marcus may refuse" in text and "<caption" in text
    edit = therapist_client.get(reverse("therapy:worksheet_edit", args=[worksheet.pk]))
    assert 'value="Move out for a month"' in edit.content.decode()


def test_a_stale_save_shows_both_versions_and_keeps_the_typed_one(therapist_client, therapist):
    _course_, area, marcus, (session, _later) = _course(therapist)
    worksheet = _write(session, area, marcus, therapist)
    url = reverse("therapy:worksheet_edit", args=[worksheet.pk])
    opened = worksheet.version
    worksheets.worksheet_update(
        worksheet=worksheet,
        by=therapist,
        expected_version=opened,
        problem_area=area,
        relationship=marcus,
        **{**EXCHANGE, "will_try": "Text him first."},
    )
    response = therapist_client.post(
        url,
        {
            "version": opened,
            "problem_area": area.pk,
            "relationship": marcus.pk,
            **{**EXCHANGE, "will_try": "Say nothing at all."},
        },
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert 'id="stale-edit"' in page
    assert "Text him first." in page and "Say nothing at all." in page
    assert Worksheet.objects.get(pk=worksheet.pk).will_try == "Text him first."


def test_the_clinic_admin_reads_a_worksheet_but_only_the_therapist_writes(
    client, therapist, clinic_admin
):
    _course_, area, marcus, (session, _later) = _course(therapist)
    worksheet = _write(session, area, marcus, therapist)
    admin = login(client, clinic_admin)
    shown = admin.get(reverse("therapy:worksheet", args=[worksheet.pk]))
    assert shown.status_code == 200 and "Marcus came home late" in shown.content.decode()
    assert reverse("therapy:worksheet_edit", args=[worksheet.pk]) not in shown.content.decode()
    assert admin.get(reverse("therapy:worksheet_edit", args=[worksheet.pk])).status_code == 404
    new_url = reverse("therapy:worksheet_new", args=[session.pk, "role-play"])
    assert admin.get(new_url).status_code == 404
    page = admin.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert "Marcus came home late" in page and new_url not in page


def test_the_note_counts_the_sessions_worksheets_as_its_techniques(therapist_client, therapist):
    _course_, area, marcus, (session, _later) = _course(therapist)
    note = _note(session, therapist)
    _write(session, area, marcus, therapist)
    _write(session, area, marcus, therapist, incident="The row about his mother")
    url = reverse("therapy:note", args=[session.pk])
    page = therapist_client.get(url).content.decode()
    tick = re.search(r'<input[^>]*value="communication_analysis"[^>]*>', page).group(0)
    assert "checked" in tick
    assert "Communication analysis — 2 worksheets" in page
    assert "The row about his mother" in page  # the list beside the ticks, with its links
    # Sent without the tick, it stays ticked: the worksheets are the technique used.
    response = therapist_client.post(
        url,
        {
            "version": note.version,
            "focus_problem_area": area.pk,
            "techniques": ["clarification"],
            "risk_level": "none",
        },
    )
    assert response.status_code == 302
    # In the manual's order.
    assert SessionNote.objects.get(pk=note.pk).techniques == [
        "clarification",
        "communication_analysis",
    ]
    shown = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert "Clarification, Communication analysis (2 worksheets)" in shown


def test_the_notes_own_worksheets_sit_in_its_form_without_a_form_of_their_own(
    therapist_client, therapist
):
    """A form inside the note's form would be dropped by the browser, and its button would
    send the note: a role play's homework is set from its own page there."""
    _course_, area, marcus, (session, _later) = _course(therapist)
    _note(session, therapist)
    role_play = _write(session, area, marcus, therapist, kind="role_play")
    page = therapist_client.get(reverse("therapy:note", args=[session.pk])).content.decode()
    note_form = page[page.index('id="note-form"') :]
    note_form = note_form[: note_form.index("</form>")]
    assert "Asking Marcus to text when he is late" in note_form
    assert "<form" not in note_form
    assert reverse("therapy:worksheet", args=[role_play.pk]) in note_form


def test_the_next_sessions_note_shows_the_earlier_worksheets_read_only(therapist_client, therapist):
    _course_, area, marcus, (first, second) = _course(therapist)
    _write(first, area, marcus, therapist)
    role_play = _write(first, area, marcus, therapist, kind="role_play")
    worksheets.worksheet_set_homework(worksheet=role_play, by=therapist)
    _note(second, therapist)
    page = therapist_client.get(reverse("therapy:note", args=[second.pk])).content.decode()
    earlier = page[page.index('id="earlier-worksheets"') : page.index('id="note-form"')]
    assert "Communication analysis" in earlier and "Role play" in earlier
    assert "She heard contempt; he heard an attack." in earlier
    assert "Homework set: “Role-play practice: Asking Marcus" in earlier
    assert "<input" not in earlier and "<textarea" not in earlier
    # Not in the first session's own note: only earlier sessions' worksheets are shown there.
    _note(first, therapist)
    page = therapist_client.get(reverse("therapy:note", args=[first.pk])).content.decode()
    assert 'id="earlier-worksheets"' not in page


def test_one_click_sets_the_role_plays_follow_on_as_homework(therapist_client, therapist):
    _course_, area, marcus, (session, _later) = _course(therapist)
    role_play = _write(session, area, marcus, therapist, kind="role_play")
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    url = reverse("therapy:worksheet_homework", args=[role_play.pk])
    assert f'action="{url}"' in page
    response = therapist_client.post(url, follow=True)
    text = response.content.decode()
    assert "Homework set: “Role-play practice: Asking Marcus" in text
    assignment = Assignment.objects.get()
    assert assignment.instructions == ROLE_PLAY["follow_on"]
    homework = text[text.index('id="homework-heading"') :]
    assert "Role-play practice: Asking Marcus" in homework
    assert f'action="{url}"' not in text
    again = therapist_client.post(url, follow=True)
    assert "Already set" in again.content.decode()
    assert Assignment.objects.count() == 1


def test_removing_a_worksheet_takes_it_off_the_pages(therapist_client, therapist):
    course, area, marcus, (session, _later) = _course(therapist)
    worksheet = _write(session, area, marcus, therapist)
    response = therapist_client.post(reverse("therapy:worksheet_remove", args=[worksheet.pk]))
    assert response.status_code == 302
    assert Worksheet.objects.get(pk=worksheet.pk).removed_at is not None
    assert therapist_client.get(reverse("therapy:worksheet", args=[worksheet.pk])).status_code == (
        404
    )
    page = therapist_client.get(reverse("phases:course", args=[course.pk])).content.decode()
    assert "Marcus came home late" not in page


def test_a_signed_note_locks_the_sessions_worksheets(therapist_client, therapist):
    _course_, area, marcus, (session, _later) = _course(therapist)
    worksheet = _write(session, area, marcus, therapist)
    note = _note(session, therapist)
    note = services.note_save(
        note=note, by=therapist, data={"risk_level": "none"}, expected_version=note.version
    )
    services.note_sign(note=note, by=therapist)
    edit = therapist_client.get(reverse("therapy:worksheet_edit", args=[worksheet.pk]), follow=True)
    assert "signed and locked" in edit.content.decode()
    page = therapist_client.get(reverse("therapy:session", args=[session.pk])).content.decode()
    assert reverse("therapy:worksheet_new", args=[session.pk, "role-play"]) not in page
    refused = therapist_client.post(
        reverse("therapy:worksheet_new", args=[session.pk, "role-play"]),
        {"problem_area": area.pk, **ROLE_PLAY},
    )
    assert refused.status_code == 200 and not Worksheet.objects.filter(kind="role_play").exists()


def _course_page_queries(client, course) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("phases:course", args=[course.pk]))
    assert response.status_code == 200
    return len(context.captured_queries), response.content.decode()


def test_the_course_page_lists_worksheets_in_the_same_queries_for_1_and_20(
    therapist_client, therapist
):
    # Each with a role play's homework: the course's homework panel reads its entries in one
    # query once there is homework (none without).
    one, area, marcus, held = _course(therapist, sessions=4)
    worksheets.worksheet_set_homework(
        worksheet=_write(held[0], area, marcus, therapist, kind="role_play"), by=therapist
    )
    twenty, area, marcus, held = _course(therapist, sessions=4)
    for number in range(20):
        kind = ("communication_analysis", "role_play")[number % 2]
        worksheet = _write(
            held[number % 4], area, marcus if number % 3 else None, therapist, kind=kind
        )
        if kind == "role_play" and number % 4 == 1:
            worksheets.worksheet_set_homework(worksheet=worksheet, by=therapist)
    worksheets.worksheet_create(
        session=held[3],
        by=therapist,
        kind="decision_analysis",
        problem_area=area,
        decision="Whether to stay",
        options=[
            {"option": "Stay", "pros": "", "cons": ""},
            {"option": "Go", "pros": "", "cons": ""},
        ],
    )
    worksheets.worksheet_remove(worksheet=worksheet, by=therapist)
    therapist_client.get(reverse("phases:course", args=[one.pk]))  # warm up
    few, _page = _course_page_queries(therapist_client, one)
    many, page = _course_page_queries(therapist_client, twenty)
    assert few == many
    panel = page[page.index('id="course-worksheets"') :]
    panel = panel[: panel.index("</section>")]
    assert panel.count("<tr>") == 1 + 20  # the header and 20 (one of 21 removed)
    assert "Homework: Role-play practice" in panel and "Decision analysis" in panel
