"""The pages of maintenance IPT: the offer on a completed course, the start form, the
maintenance course's page (its phases, check-in, boosters and fidelity flags, where the acute
course shows its exit criteria), the contract form and the therapist's home."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.audit.models import AuditEvent
from phases.maintenance import maintenance_booster_record
from phases.models import Goal, Phase, TreatmentCourse
from tests.conftest import login

from .maintenance_cast import completed_course, maintenance_course

pytestmark = pytest.mark.django_db

# Wednesday 13 January 2027, 10:00 in London (GMT).
NOW = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


def _staff(user) -> Client:
    """Logged in now: the clock moves in these tests, and an idle staff session ends."""
    return login(Client(), user)


def _page(client, course) -> str:
    response = client.get(reverse("phases:course", args=[course.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_completed_course_offers_maintenance_and_the_form_starts_it(therapist):
    with time_machine.travel(NOW, tick=False):
        acute = completed_course(therapist, ending_decision="maintenance_ipt")
        page = _page(_staff(therapist), acute)
        start = reverse("phases:maintenance_start", args=[acute.pk])
        assert f'href="{start}"' in page and "Decided at the ending: maintenance IPT." in page

        form = _staff(therapist).get(start).content.decode()
        partly, achieved = (
            Goal.objects.get(course=acute, text=text)
            for text in ("Share the chores", "Talk about the move weekly")
        )
        assert f'value="{partly.pk}"' in form.split("Share the chores")[0].rsplit("<input", 1)[1]
        assert "checked" in form.split("Share the chores")[0].rsplit("<input", 1)[1]
        assert "checked" not in form.split("Talk about the move weekly")[0].rsplit("<input", 1)[1]
        assert AuditEvent.objects.filter(summary="Maintenance IPT start opened").exists()

        response = _staff(therapist).post(
            start,
            {
                "start_date": "2027-01-13",
                "planned_sessions": "12",
                "frequency": "monthly",
                "session_minutes": "45",
                "contract_agreed_on": "2027-01-13",
                "goals": [str(partly.pk), str(achieved.pk)],
            },
        )
    maintenance = TreatmentCourse.objects.get(course_type="maintenance")
    assert response.status_code == 302
    assert response["Location"] == reverse("therapy:book_series", args=[maintenance.pk])
    assert set(Goal.objects.filter(course=maintenance).values_list("text", flat=True)) == {
        "Share the chores",
        "Talk about the move weekly",
    }


def test_the_start_page_says_why_not_and_starts_nothing_for_an_active_course(course, therapist):
    start = reverse("phases:maintenance_start", args=[course.pk])
    page = _staff(therapist).get(start).content.decode()
    assert "Complete this course first" in page and 'name="planned_sessions"' not in page
    response = _staff(therapist).post(start, {"start_date": "2027-01-13", "planned_sessions": "12"})
    assert response.status_code == 409
    assert not TreatmentCourse.objects.filter(course_type="maintenance").exists()


def test_the_maintenance_page_shows_its_phases_check_in_boosters_and_flags(therapist):
    with time_machine.travel(NOW, tick=False):
        maintenance = maintenance_course(therapist, planned_sessions=36)
        page = _page(_staff(therapist), maintenance)
    assert "Maintenance IPT — Jamie Rivers" in page
    steps = page.split('aria-label="Phases"')[1].split("</ol>")[0]
    assert "1. Maintenance" in steps and "2. Termination / relapse prevention" in steps
    assert "Initial assessment" not in steps
    assert "Mid-course review" not in page
    assert "Move back to an earlier phase" not in page
    assert "The first check-in is a month after the start." in page
    assert "✓ This month's PHQ-9, each booster's warning sign" in page
    assert "Book a booster session…" in page
    assert ">Maintenance</text>" in page  # the score chart's band for the phase

    # A month and nine days on: February's check-in is unanswered, a booster was added without
    # its warning sign, and the contract with its boosters now runs over 36 sessions.
    with time_machine.travel(datetime(2027, 2, 22, 10, 0, tzinfo=UTC), tick=False):
        maintenance_booster_record(
            course=maintenance, session_id=None, warning_sign="", by=therapist
        )
        page = _page(_staff(therapist), maintenance)
    flags = page.split('id="maintenance-flags"')[1].split("</ul>")[0]
    assert "No PHQ-9 this month (asked for on 13 Feb 2027)" in flags
    assert "1 booster without a warning sign recorded" in flags
    assert "Contract over 36 sessions: 37 with its boosters" in flags
    assert "Month 1: asked for on 13 Feb 2027, not answered yet." in page
    assert "no warning sign recorded" in page.split('id="boosters"')[1]


def test_the_contract_form_of_a_maintenance_course_takes_up_to_36_sessions(therapist):
    with time_machine.travel(NOW, tick=False):
        maintenance = maintenance_course(therapist)
        edit = reverse("phases:course_edit", args=[maintenance.pk])
        form = _staff(therapist).get(edit).content.decode()
        assert "Planned sessions (6 to 36)" in form and 'max="36"' in form
        response = _staff(therapist).post(
            edit,
            {
                "version": maintenance.version,
                "start_date": "2027-01-13",
                "planned_sessions": "30",
                "frequency": "monthly",
                "session_minutes": "45",
                "contract_agreed_on": "2027-01-13",
            },
        )
    assert response.status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.planned_sessions == 30
    acute_form = (
        _staff(therapist)
        .get(reverse("phases:course_edit", args=[maintenance.maintenance_of_id]))
        .content.decode()
    )
    assert "Planned sessions (8 to 20)" in acute_form


def test_the_home_page_groups_maintenance_courses_with_their_own_flags(therapist):
    with time_machine.travel(NOW, tick=False):
        maintenance = maintenance_course(therapist)
    # Seven sessions held of twelve: an acute course would be overdue its mid-course review.
    TreatmentCourse.objects.filter(pk=maintenance.pk).update(sessions_attended=7)
    with time_machine.travel(datetime(2027, 2, 22, 10, 0, tzinfo=UTC), tick=False):
        home = _staff(therapist).get(reverse("caseload:therapist_home")).content.decode()
    assert Phase.MAINTENANCE.label in home
    row = home.split("Rivers, Jamie")[1].split("</tr>")[0]
    assert "No PHQ-9 this month (asked for on 13 Feb 2027)" in row
    assert "Mid-course review" not in row and "Termination not begun" not in row


def test_an_ended_maintenance_course_takes_no_booster(therapist):
    with time_machine.travel(NOW, tick=False):
        maintenance = maintenance_course(therapist)
    TreatmentCourse.objects.filter(pk=maintenance.pk).update(
        status="completed", phase=Phase.COMPLETED, ended_at=timezone.now()
    )
    page = _page(_staff(therapist), maintenance)
    assert "Book a booster session…" not in page
    assert "Carries on from the" in page and date(2027, 1, 13).strftime("%-d %b %Y") in page
