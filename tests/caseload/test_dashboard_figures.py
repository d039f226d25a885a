from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from caseload.dashboard_selectors import Window, dashboard_for_clinic
from phases.models import CourseStatus, Phase
from sessions.models import SessionStatus
from tests.clock import AWKWARD_INSTANTS
from tests.factories import SessionFactory

# The figures depend on the day of the week: every test here runs on a frozen clock, an
# ordinary afternoon unless it names another instant (``indirect`` parametrisation of now).
WEDNESDAY_AFTERNOON = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def now(request):
    moment = getattr(request, "param", WEDNESDAY_AFTERNOON)
    with time_machine.travel(moment, tick=False):
        yield moment


@pytest.fixture
def scene(make, clinic, therapist, other_therapist, other_clinic_therapist):
    """Alice and Bob in the admin's clinic; Erin in another clinic with one of everything."""
    courses = {
        # 8 attended of 8 planned, a PHQ-9 yesterday: past planned, nothing overdue
        "past_planned": make(
            therapist,
            planned=8,
            attended_days_ago=(2, 5, 9, 12, 16, 19, 23, 26),
            phq9_days_ago=1,
            first_name="Pat",
        ),
        # started 20 days ago, never seen, never scored
        "silent": make(therapist, phase=Phase.INITIAL, started_days_ago=20, first_name="Sil"),
        # new, two attended sessions, a no-show, an open risk flag, an old unsigned note
        "risky": make(
            therapist,
            phase=Phase.SOCIAL,
            started_days_ago=5,
            attended_days_ago=(1,),
            no_show_days_ago=(4,),
            open_risk=True,
            unsigned_note_days_ago=3,
            first_name="Ris",
        ),
        "finished": make(
            therapist, status=CourseStatus.COMPLETED, phase=Phase.COMPLETED, first_name="Fin"
        ),
        # Bob: last seen and scored 20 days ago
        "stale": make(
            other_therapist,
            phase=Phase.TERMINATION,
            started_days_ago=60,
            attended_days_ago=(20,),
            phq9_days_ago=20,
            first_name="Sta",
        ),
    }
    window = Window.for_clinic(clinic.tz)
    SessionFactory(course=courses["stale"], scheduled_start=window.week_start + timedelta(hours=1))
    SessionFactory(
        course=courses["stale"],
        scheduled_start=window.week_start + timedelta(hours=2),
        status=SessionStatus.CANCELLED_PATIENT,
    )
    # Another clinic: one of everything, none of which may be counted.
    make(
        other_clinic_therapist,
        planned=8,
        attended_days_ago=(1, 2, 3, 4, 5, 6, 7, 8),
        no_show_days_ago=(9, 10),
        open_risk=True,
        unsigned_note_days_ago=5,
        started_days_ago=40,
    )
    return courses


def _row(board, user):
    return next(row for row in board.rows if row.therapist_id == user.pk)


@pytest.mark.parametrize(
    ("now", "alice_this_week"),
    [
        # The week began half an hour ago: none of Alice's past sessions is in it, and her
        # figure is a 0, not a missing one (clinic time GMT, then BST with the UTC date Sunday).
        pytest.param(AWKWARD_INSTANTS["monday-0030"], 0, id="monday-0030"),
        pytest.param(AWKWARD_INSTANTS["monday-0030-bst"], 0, id="monday-0030-bst"),
        # Her sessions of 1 and 2 days ago (Tuesday and Monday).
        pytest.param(WEDNESDAY_AFTERNOON, 2, id="wednesday"),
        # Those of 1 to 5 days ago (Tuesday to Saturday).
        pytest.param(SUNDAY_NIGHT, 5, id="sunday-night"),
    ],
    indirect=["now"],
)
def test_it_counts_each_figure_per_therapist(
    now, alice_this_week, scene, clinic, therapist, other_therapist
):
    board = dashboard_for_clinic(clinic.pk, clinic.tz)
    alice = _row(board, therapist)
    assert alice.counts["active"] == 3
    assert alice.counts["phase_initial"] == 1
    assert alice.counts["phase_social"] == 1
    assert alice.counts["phase_problem_solving"] == 1
    assert alice.counts["phase_termination"] == 0
    # Alice's sessions 1-26 days ago (attended, no-show, the unsigned note's).
    assert alice.counts["sessions_week"] == alice_this_week
    assert (alice.no_show_recent, alice.attended_recent) == (1, 10)
    assert alice.counts["unsigned_notes"] == 1
    assert alice.counts["no_session_14"] == 1
    assert alice.counts["past_planned"] == 1
    assert alice.counts["risk_open"] == 1
    # "silent" (never scored, 20 days old) and "risky" (never scored, two attended sessions)
    assert alice.counts["phq9_overdue"] == 2

    bob = _row(board, other_therapist)
    assert bob.counts["active"] == 1
    assert bob.counts["phase_termination"] == 1
    assert bob.counts["no_session_14"] == 1
    assert bob.counts["phq9_overdue"] == 1
    assert bob.counts["risk_open"] == 0
    assert bob.no_show_rate == 0
    assert bob.counts["sessions_week"] == 1  # the cancelled one is left out


def test_it_totals_the_clinic_without_another_clinics_rows(scene, clinic):
    board = dashboard_for_clinic(clinic.pk, clinic.tz)
    totals = board.totals.counts
    assert totals["active"] == 4
    assert totals["risk_open"] == 1
    assert totals["unsigned_notes"] == 1
    assert totals["past_planned"] == 1
    assert totals["no_session_14"] == 2
    assert totals["phq9_overdue"] == 3
    assert (board.totals.no_show_recent, board.totals.attended_recent) == (1, 11)
    assert dict((key, n) for key, _, n in board.phase_counts) == {
        "initial": 1,
        "social": 1,
        "problem_solving": 1,
        "termination": 1,
    }


def test_it_shows_figures_linked_to_their_patients(scene, admin_client, therapist):
    response = admin_client.get(reverse("caseload:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    link = reverse("caseload:drilldown") + f"?metric=risk_open&amp;therapist={therapist.pk}"
    assert link in body
    assert "9% (1/11)" in body  # the clinic's no-show rate in the totals row
    assert "Erin" not in body


def test_it_sorts_by_a_column(scene, admin_client, therapist, other_therapist):
    response = admin_client.get(reverse("caseload:dashboard"), {"sort": "active", "dir": "desc"})
    names = [row.therapist_id for row in response.context["rows"]]
    assert names.index(therapist.pk) < names.index(other_therapist.pk)
    response = admin_client.get(reverse("caseload:dashboard"), {"sort": "active", "dir": "asc"})
    names = [row.therapist_id for row in response.context["rows"]]
    assert names.index(other_therapist.pk) < names.index(therapist.pk)


def test_it_shows_another_clinics_admin_only_their_own_clinic(scene, other_admin_client):
    response = other_admin_client.get(reverse("caseload:dashboard"))
    assert response.status_code == 200
    board = response.context["board"]
    assert board.totals.counts["active"] == 1
    assert board.totals.counts["risk_open"] == 1
    assert "Alice" not in response.content.decode()


def test_it_is_not_found_for_a_therapist(therapist_client):
    assert therapist_client.get(reverse("caseload:dashboard")).status_code == 404


def test_it_counts_phq9_overdue_after_two_sessions_without_one(make, clinic, therapist):
    make(therapist, phq9_days_ago=10, attended_days_ago=(5, 2), started_days_ago=40)
    make(therapist, phq9_days_ago=10, attended_days_ago=(12, 2), started_days_ago=40)
    make(therapist, phq9_days_ago=3, attended_days_ago=(12, 10), started_days_ago=40)
    board = dashboard_for_clinic(clinic.pk, clinic.tz)
    assert _row(board, therapist).counts["phq9_overdue"] == 1


def test_it_follows_attendance_recorded_and_corrected(make, clinic, therapist):
    """The course figures rest on what the course keeps: recording attendance moves them."""
    from sessions import services
    from tests.factories import SessionFactory

    course = make(therapist, planned=8, phq9_days_ago=6, started_days_ago=40)
    now = timezone.now()
    sessions = [
        SessionFactory(course=course, scheduled_start=now - timedelta(days=d)) for d in (4, 1)
    ]

    def overdue_and_unseen():
        counts = _row(dashboard_for_clinic(clinic.pk, clinic.tz), therapist).counts
        return counts["phq9_overdue"], counts["no_session_14"]

    assert overdue_and_unseen() == (0, 1)
    for session in sessions:
        services.session_record_attendance(session=session, by=therapist, status="attended")
    assert overdue_and_unseen() == (1, 0)
    services.session_record_attendance(session=sessions[0], by=therapist, status="no_show")
    assert overdue_and_unseen() == (0, 0)


def test_it_escapes_names_in_the_table(make, clinic, admin_client):
    from ipt_clinic.accounts.models import Role
    from tests.factories import UserFactory

    odd = UserFactory(
        username="odd", first_name="<b>Bo", last_name="{name}", clinic=clinic, role=Role.THERAPIST
    )
    make(odd)
    body = admin_client.get(reverse("caseload:dashboard")).content.decode()
    assert "&lt;b&gt;Bo {name}" in body
    assert "<b>Bo" not in body


def test_its_no_show_rate_covers_this_week_and_the_twelve_before(
    clinic, therapist, admin_client, course
):
    """The rate's window starts at midnight on the Monday twelve weeks before this week's
    (clinic time); the drill-down lists exactly the no-shows the rate counts."""
    from caseload.dashboard_selectors import CourseFilters, courses_for_review
    from tests.factories import CourseFactory, PatientFactory, SessionFactory

    window = Window.for_clinic(clinic.tz)
    since = window.no_show_since
    assert since.astimezone(clinic.tz).weekday() == 0
    assert since.astimezone(clinic.tz).time().isoformat() == "00:00:00"
    assert (window.week_start.date() - since.date()).days == 12 * 7

    inside = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    SessionFactory(course=inside, scheduled_start=since, status=SessionStatus.NO_SHOW)
    SessionFactory(course=course, scheduled_start=since - timedelta(minutes=1), status="no_show")
    SessionFactory(course=course, scheduled_start=since + timedelta(days=3), status="attended")

    row = _row(dashboard_for_clinic(clinic.pk, clinic.tz), therapist)
    assert (row.no_show_recent, row.attended_recent) == (1, 1)
    listed = courses_for_review(clinic.pk, CourseFilters(metric="no_show_rate"), window)
    assert [c.pk for c in listed] == [inside.pk]
    body = admin_client.get(reverse("caseload:dashboard")).content.decode()
    assert "No-show rate (13 wk)" in body
    assert "50% (1/2)" in body


def _flag(course, hours_ago: float):
    """An open risk flag raised ``hours_ago`` (when its questionnaire entered the record)."""
    from sessions.models import Measure

    measure = Measure.objects.create(
        clinic=course.clinic,
        course=course,
        instrument="phq9",
        answers=[1, 1, 1, 1, 1, 1, 1, 1, 1],
        total=9,
        severity="mild",
        risk_flag=True,
        taken_at=timezone.now() - timedelta(hours=hours_ago),
    )
    Measure.objects.filter(pk=measure.pk).update(
        created_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return measure


def test_it_leads_with_the_figures_that_matter_most(
    make, clinic, therapist, clinic_admin, admin_client
):
    """Open risk flags with the oldest one's age (marked once past the clinic's escalation
    window, 4 hours by default), unsigned notes over 48 hours and PHQ-9 overdue, above the
    table, each linked to its patients."""
    _flag(make(therapist, phq9_days_ago=1), hours_ago=3.5)
    make(therapist, unsigned_note_days_ago=3, phq9_days_ago=20)
    response = admin_client.get(reverse("caseload:dashboard"))
    lead = {figure["key"]: figure for figure in response.context["lead"]}
    assert [figure["key"] for figure in response.context["lead"]] == [
        "risk_open",
        "unsigned_notes",
        "phq9_overdue",
    ]
    assert (lead["risk_open"]["count"], lead["unsigned_notes"]["count"]) == (1, 1)
    assert lead["phq9_overdue"]["count"] == 1
    assert lead["risk_open"]["oldest"] == "3 h 30 min"
    assert not lead["risk_open"]["overdue"]
    body = response.content.decode()
    assert "Oldest raised 3 h 30 min ago: within the escalation window (4 hours)" in body
    assert body.index("Open risk flags") < body.index("<table")

    # An hour later, with a second flag raised meanwhile through the portal's own service.
    from django.test import Client

    from sessions.measures import measure_record
    from tests.conftest import login

    with time_machine.travel(WEDNESDAY_AFTERNOON + timedelta(hours=1), tick=False):
        measure_record(
            course=make(therapist, phq9_days_ago=1),
            instrument="phq9",
            answers=[0, 0, 0, 0, 0, 0, 0, 0, 1],
            entered_by_kind="patient",
        )
        # (logged in again: the first login has been idle past its limit)
        response = login(Client(), clinic_admin).get(reverse("caseload:dashboard"))
    risk = response.context["lead"][0]
    assert (risk["count"], risk["oldest"], risk["overdue"]) == (2, "4 h 30 min", True)
    assert "lead-figure-overdue" in response.content.decode()
    assert risk["url"] == reverse("caseload:drilldown") + "?metric=risk_open&from=therapist.asc.1"


def test_it_pages_the_table_and_keeps_its_order_in_the_links(make, clinic, admin_client):
    from ipt_clinic.accounts.models import Role
    from tests.factories import UserFactory

    staff = [
        UserFactory(
            username=f"t{n:02d}", first_name=f"T{n:02d}", clinic=clinic, role=Role.THERAPIST
        )
        for n in range(30)
    ]
    for n, member in enumerate(staff):
        for _ in range(n % 4):
            make(member)
    url = reverse("caseload:dashboard")
    first = admin_client.get(url, {"sort": "active", "dir": "desc"})
    assert len(first.context["rows"]) == 25
    assert [row.counts["active"] for row in first.context["rows"]][:8] == [3] * 7 + [2]
    body = first.content.decode()
    assert 'href="?sort=active&amp;dir=desc&amp;page=2"' in body
    assert "Therapists 1–25 of 30" in body
    assert "&amp;from=active.desc.1" in body  # each figure's link hands the order on

    second = admin_client.get(url, {"sort": "active", "dir": "desc", "page": 2})
    assert [row.counts["active"] for row in second.context["rows"]] == [0] * 5
    assert 'href="?sort=active&amp;dir=desc&amp;page=1"' in second.content.decode()
    shown = [row.therapist_id for row in first.context["rows"] + second.context["rows"]]
    assert sorted(shown) == sorted(member.pk for member in staff)

    drilldown = admin_client.get(
        reverse("caseload:drilldown"), {"metric": "active", "from": "active.desc.2"}
    )
    assert 'href="/caseload/clinic/?sort=active&amp;dir=desc&amp;page=2"' in (
        drilldown.content.decode().replace(reverse("caseload:dashboard"), "/caseload/clinic/")
    )


@pytest.mark.parametrize("descending", [False, True], ids=["up", "down"])
def test_it_sorts_by_every_figure_on_the_server(scene, clinic, admin_client, descending):
    """The kept table's order is the plain sort of every therapist's figures, whichever
    figure and direction (rows without a no-show rate last both ways)."""
    from caseload.dashboard_selectors import SORT_KEYS, sort_rows
    from ipt_clinic.accounts.models import Role
    from tests.factories import UserFactory

    UserFactory(username="zed", first_name="Zed", clinic=clinic, role=Role.THERAPIST)
    plain = dashboard_for_clinic(clinic.pk, clinic.tz).rows
    for key in SORT_KEYS:
        expected = [row.therapist_id for row in sort_rows(plain, key, descending)]
        response = admin_client.get(
            reverse("caseload:dashboard"), {"sort": key, "dir": "desc" if descending else "asc"}
        )
        assert [row.therapist_id for row in response.context["rows"]] == expected, key
