"""Counting outcomes as services report them over a clinic's finished courses."""

from datetime import timedelta

from django.utils import timezone

from caseload.recovery import recovery_for_clinic
from phases.models import CourseStatus
from sessions.models import SessionStatus
from tests.caseload.recovery_builders import ended_course, score
from tests.factories import CourseFactory, PatientFactory, ProblemAreaFactory, SessionFactory


def _recovery(clinic):
    today = timezone.now().astimezone(clinic.tz).date()
    return recovery_for_clinic(clinic.pk, clinic.tz, today - timedelta(days=60), today)


def _counts(group) -> dict[str, int]:
    keys = ["finished", "cases", "recovered", "reliably_improved", "reliably_recovered"]
    return {key: group.count(key) for key in [*keys, "reliably_deteriorated"]}


def test_it_leaves_out_a_course_with_one_scored_session(clinic, therapist):
    ended_course(therapist, phq9=[18])
    # Two attended sessions, only the first scored.
    ended_course(therapist, phq9=[18, None], gad7=[12, None])
    # Two scored sessions, but no questionnaire at both.
    ended_course(therapist, phq9=[18, None], gad7=[None, 5])
    counted = ended_course(therapist, phq9=[18, 7])
    report = _recovery(clinic)
    assert report.ended == 4
    assert [c.course_id for c in report.clinic.courses] == [counted.pk]


def test_it_reads_the_first_and_last_scored_sessions_of_each_questionnaire(clinic, therapist):
    # PHQ-9 15 -> 12 -> 9 (down 6), GAD-7 only at the first and the middle session (12 -> 9).
    ended_course(therapist, phq9=[15, 12, 9], gad7=[12, 9, None])
    (course,) = _recovery(clinic).clinic.courses
    assert (course.scores.phq9.first, course.scores.phq9.last) == (15, 9)
    assert (course.scores.gad7.first, course.scores.gad7.last) == (12, 9)


def test_it_counts_a_correction_in_place_of_what_it_corrects(clinic, therapist):
    course = ended_course(therapist, phq9=[9, 3])
    first = course.measures.get(total=9)
    # The first PHQ-9 was corrected to 15: a case at the start, and recovered.
    correction = score(course, first.session, "phq9", 15, taken_at=first.taken_at)
    correction.corrects = first
    correction.save()
    first.superseded_at = timezone.now()
    first.save()
    counts = _counts(_recovery(clinic).clinic)
    assert counts["cases"] == 1
    assert counts["recovered"] == 1
    assert counts["reliably_recovered"] == 1


def _scored_then_attended(therapist):
    """A course scored at a session 27 days ago, then attended (unscored) 6 days ago."""
    course = ended_course(therapist, phq9=[16], ended_days_ago=20)
    session = SessionFactory(
        course=course,
        scheduled_start=timezone.now() - timedelta(days=6),
        status=SessionStatus.ATTENDED,
    )
    type(course).objects.filter(pk=course.pk).update(ended_at=timezone.now() - timedelta(days=1))
    return course, session


def test_it_takes_a_portal_questionnaire_for_the_next_attended_session_within_a_week(
    clinic, therapist
):
    course, session = _scored_then_attended(therapist)
    score(course, None, "phq9", 8, taken_at=session.scheduled_start - timedelta(days=7))
    # A week and a minute before the session: not that session's.
    other, later = _scored_then_attended(therapist)
    score(other, None, "phq9", 8, taken_at=later.scheduled_start - timedelta(days=7, minutes=1))
    report = _recovery(clinic)
    assert [c.course_id for c in report.clinic.courses] == [course.pk]
    assert report.clinic.courses[0].scores.phq9.last == 8


def test_it_never_reads_a_score_of_a_session_not_attended(clinic, therapist):
    course = ended_course(therapist, phq9=[16])
    missed = SessionFactory(
        course=course,
        scheduled_start=course.ended_at - timedelta(days=1),
        status=SessionStatus.NO_SHOW,
    )
    score(course, missed, "phq9", 4)
    assert _recovery(clinic).clinic.courses == []


def test_it_counts_per_therapist_per_primary_problem_area_and_for_the_clinic(
    clinic, therapist, other_therapist
):
    # Alice: recovered and reliably (grief); improved, still a case (role dispute, dropped
    # out); deteriorated (grief).
    recovered = ended_course(therapist, phq9=[16, 5], gad7=[12, 4], area="grief")
    # A secondary area does not count; the primary does.
    ProblemAreaFactory(course=recovered, kind="role_transition", is_primary=False)
    ended_course(
        therapist,
        phq9=[20, 13],
        gad7=[14, 9],
        area="role_dispute",
        status=CourseStatus.DROPPED_OUT,
    )
    ended_course(therapist, phq9=[8, 15], gad7=[6, 9], area="grief")
    # Bob: a case recovered without a reliable change (11 -> 9, GAD-7 8 -> 6), no area.
    ended_course(other_therapist, phq9=[11, 9], gad7=[8, 6])
    # Not counted: still active, ended before the period, another clinic's.
    active = CourseFactory(patient=PatientFactory(primary_therapist=therapist))
    for total in (16, 4):
        session = SessionFactory(
            course=active,
            scheduled_start=timezone.now() - timedelta(days=total),
            status=SessionStatus.ATTENDED,
        )
        score(active, session, "phq9", total)
    ended_course(therapist, phq9=[16, 4], ended_days_ago=90)

    report = _recovery(clinic)
    assert _counts(report.clinic) == {
        "finished": 4,
        "cases": 3,
        "recovered": 2,
        "reliably_improved": 2,
        "reliably_recovered": 1,
        "reliably_deteriorated": 1,
    }
    alice, bobs = report.by_therapist
    assert (alice.label, bobs.label) == (therapist.display_name, other_therapist.display_name)
    assert _counts(alice) == {
        "finished": 3,
        "cases": 2,
        "recovered": 1,
        "reliably_improved": 2,
        "reliably_recovered": 1,
        "reliably_deteriorated": 1,
    }
    assert _counts(bobs)["recovered"] == 1
    assert _counts(bobs)["reliably_recovered"] == 0
    areas = {group.label: _counts(group) for group in report.by_problem_area}
    assert areas["Grief"]["finished"] == 2
    assert areas["Grief"]["reliably_deteriorated"] == 1
    assert areas["Role dispute"]["reliably_improved"] == 1
    assert areas["Role transition"]["finished"] == 0
    assert areas["No problem area recorded"]["recovered"] == 1
    assert alice.cells == [
        "3",
        "2 of 3 (67%)",
        "1 of 2 (50%)",
        "2 of 3 (67%)",
        "1 of 2 (50%)",
        "1 of 3 (33%)",
    ]


def test_it_never_counts_another_clinics_courses(clinic, other_clinic):
    from ipt_clinic.accounts.models import Role
    from tests.factories import UserFactory

    elsewhere = UserFactory(username="erin", clinic=other_clinic, role=Role.THERAPIST)
    ended_course(elsewhere, phq9=[16, 4])
    assert _recovery(clinic).ended == 0
    assert _counts(_recovery(other_clinic).clinic)["recovered"] == 1


def _many(therapist, count):
    for index in range(count):
        ended_course(
            therapist,
            phq9=[16, 10, 4],
            gad7=[12, None, 4],
            area=["grief", "role_dispute", None][index % 3],
        )


def test_it_counts_in_the_same_queries_for_one_course_and_thirty(
    clinic, therapist, other_therapist, django_assert_num_queries
):
    _many(therapist, 1)
    with django_assert_num_queries(5):
        one = _recovery(clinic)
    _many(therapist, 15)
    _many(other_therapist, 14)
    with django_assert_num_queries(5):
        thirty = _recovery(clinic)
    assert len(one.clinic.courses) == 1
    assert len(thirty.clinic.courses) == 30
    assert thirty.clinic.count("reliably_recovered") == 30


def test_it_suppresses_small_cells_in_the_exported_row(clinic, therapist):
    for _ in range(5):
        ended_course(therapist, phq9=[16, 4])
    for _ in range(4):
        ended_course(therapist, phq9=[7, 6])
    # Five deteriorated courses of four patients: fewer than five people.
    for _ in range(3):
        ended_course(therapist, phq9=[8, 15])
    again = ended_course(therapist, phq9=[8, 15])
    ended_course(therapist, phq9=[8, 15], patient=again.patient, ended_days_ago=3)
    group = _recovery(clinic).clinic
    assert group.count("reliably_deteriorated") == 5
    row = group.export_row()
    assert row["finished"] == "14"
    assert row["cases"] == "5"
    assert row["recovered"] == "5"
    assert row["recovered_rate"] == "100%"
    assert row["reliably_improved_rate"] == "36%"
    assert row["reliably_deteriorated"] == "<5"
    assert row["reliably_deteriorated_rate"] == "—"
    # Inside the clinic's view the count shows.
    assert group.cells[-1] == "5 of 14 (36%)"
