"""The course page's reads as fixed statements (``ipt_clinic.rows``): the same rows, fields
and related rows as the ORM's readings they stand for (``access.get_course_page_for_user``,
that is ``selectors.course_page_row`` through ``patients.access.get_scoped_or_404``; the
course's phase changes, goals, problem areas and role disputes' stage entries as
``selectors.course_page`` reads them), which stay the reference: ``tests/phases/test_course_page_reads.py`` compares each with its ORM
reading on SQLite and PostgreSQL.

The bench's course page target needs them: compiling the page's ORM queries was about a
fifth of its work on every request, the course's own row (seven joins, two EXISTS, the
access check) the largest of them; a fixed statement is written once per process
(``rows.statement``).
"""

from ipt_clinic import rows
from ipt_clinic.accounts.models import Clinic, User
from patients.access import RecordRefused, scoped_record_pk
from patients.models import Patient, Relationship

from .models import (
    DisputeStageEntry,
    FormulationAnswer,
    FormulationShare,
    Goal,
    MidCourseReview,
    PhaseTransition,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    TreatmentCourse,
)

# As ``selectors``: what the page shows of a person of the inventory and of a member of staff.
_PERSON_SHOWN = ("name", "kind", "died_on")
_STAFF_NAME = ("username", "first_name", "last_name")


_q, _table, _fetch = rows.quote, rows.table, rows.fetch


# --------------------------------------------------------------------------- the course


def _course_sql(*, therapist_only: bool) -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(TreatmentCourse, "c"),
        rows.Columns(Clinic, "cl"),
        rows.Columns(Patient, "p"),
        rows.Columns(User, "t"),
        rows.Columns(RelapsePreventionPlan, "rp"),
        rows.Columns(MidCourseReview, "mr"),
        rows.Columns(FormulationShare, "fs"),
        rows.Columns(User, "sb"),
    ]
    sql = (
        f"SELECT {parts[0].sql},"  # noqa: S608 - names from the models  # nosec B608
        f" EXISTS(SELECT 1 FROM {_table(FormulationAnswer)} fa"
        f" WHERE fa.{_q('clinic_id')} = c.{_q('clinic_id')}"
        f" AND fa.{_q('course_id')} = c.{_q('id')}),"
        f" EXISTS(SELECT 1 FROM {_table(TreatmentCourse)} oc"
        f" WHERE oc.{_q('clinic_id')} = c.{_q('clinic_id')}"
        f" AND oc.{_q('patient_id')} = c.{_q('patient_id')}"
        f" AND NOT (oc.{_q('id')} = c.{_q('id')})), "
        f"{', '.join(part.sql for part in parts[1:])}"
        f" FROM {_table(TreatmentCourse)} c"
        f" LEFT JOIN {_table(MidCourseReview)} mr ON mr.{_q('course_id')} = c.{_q('id')}"
        f" LEFT JOIN {_table(FormulationShare)} fs ON fs.{_q('course_id')} = c.{_q('id')}"
        f" AND fs.{_q('withdrawn_at')} IS NULL"
        f" JOIN {_table(Clinic)} cl ON cl.{_q('id')} = c.{_q('clinic_id')}"
        f" JOIN {_table(Patient)} p ON p.{_q('id')} = c.{_q('patient_id')}"
        f" JOIN {_table(User)} t ON t.{_q('id')} = c.{_q('therapist_id')}"
        f" LEFT JOIN {_table(RelapsePreventionPlan)} rp ON rp.{_q('course_id')} = c.{_q('id')}"
        f" LEFT JOIN {_table(User)} sb ON sb.{_q('id')} = fs.{_q('shared_by_id')}"
        f" WHERE c.{_q('clinic_id')} = %s AND c.{_q('id')} = %s"
        + (f" AND p.{_q('primary_therapist_id')} = %s" if therapist_only else "")
        # As ``QuerySet.get``: enough rows to tell one from several.
        + " LIMIT 2"
    )
    return sql, parts


def course_page_course(user, course_id) -> TreatmentCourse:
    """As ``access.get_course_page_for_user``: the course with its clinic, patient (their
    clinic the course's), therapist, relapse-prevention plan (``relapse_plan``, raising
    ``DoesNotExist`` when there is none, as after ``select_related``), mid-course review
    (``page_review``, set only when there is one: ``page_review_id``), open shared wording
    with who shared it (``page_share``, likewise: ``page_share_id``) and the ``page_answered`` and
    ``page_other_courses`` flags, through the same access check as
    ``patients.access.get_scoped_or_404`` (Http404 for outsiders and missing rows)."""
    pk = scoped_record_pk(user, TreatmentCourse, course_id)
    refused = RecordRefused("Not found.", model=TreatmentCourse, record_id=course_id)
    therapist_only = not user.is_clinic_admin
    params = [user.clinic_id, pk]
    if therapist_only:
        params.append(user.pk)
    found, parts = _fetch(
        f"course_page:{'therapist' if therapist_only else 'admin'}",
        lambda: _course_sql(therapist_only=therapist_only),
        params,
    )
    if not found:
        raise refused
    if len(found) > 1:
        raise TreatmentCourse.MultipleObjectsReturned(
            "get() returned more than one TreatmentCourse -- it returned 2!"
        )
    row = found[0]
    width = len(parts[0].attnames)
    course = parts[0].instance(list(row[:width]))
    course.page_answered = bool(row[width])
    course.page_other_courses = bool(row[width + 1])
    clinic, patient, therapist, plan, review, share, shared_by = rows.instances(
        row[width + 2 :], parts[1:]
    )
    course.clinic = clinic
    course.patient = patient
    course.therapist = therapist
    # As ``select_related`` leaves a reverse one-to-one: the plan, or None remembered (the
    # attribute then raises DoesNotExist without a query).
    plan_relation = TreatmentCourse._meta.get_field("relapse_plan")
    plan_relation.set_cached_value(course, plan)
    if plan is not None:
        plan_relation.field.set_cached_value(plan, course)
    # As ``select_related`` leaves a filtered relation: the row, with its course, only when
    # there is one (``page_review_id`` and ``page_share_id`` say whether).
    course.page_review_id = review.pk if review is not None else None
    if review is not None:
        course.page_review = review
        review.course = course
    course.page_share_id = share.pk if share is not None else None
    if share is not None:
        course.page_share = share
        share.course = course
        share.shared_by = shared_by
    if patient.clinic_id == course.clinic_id:
        patient.clinic = clinic
    return course


# --------------------------------------------------------------------------- its lists


def _transitions_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(PhaseTransition, "pt"), rows.Columns(User, "u", _STAFF_NAME)]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(PhaseTransition)} pt"
        f" JOIN {_table(User)} u ON u.{_q('id')} = pt.{_q('by_id')}"
        f" WHERE pt.{_q('clinic_id')} = %s AND pt.{_q('course_id')} = %s"
        f" ORDER BY pt.{_q('at')}, pt.{_q('id')}"
    )
    return sql, parts


def course_transitions(course) -> list[PhaseTransition]:
    """As the page's ORM reading (``selectors._page_reads()["transitions"]``): the course's
    phase changes in order, each with who made it (their name only)."""
    found, parts = _fetch(
        "course_page:transitions", _transitions_sql, [course.clinic_id, course.pk]
    )
    transitions = []
    for row in found:
        transition, by = rows.instances(row, parts)
        transition.by = by
        transitions.append(transition)
    return transitions


def _goals_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(Goal, "g")]
    sql = (
        f"SELECT {parts[0].sql}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(Goal)} g"
        f" WHERE g.{_q('removed_at')} IS NULL"
        f" AND g.{_q('clinic_id')} = %s AND g.{_q('course_id')} = %s"
        f" ORDER BY g.{_q('id')}"
    )
    return sql, parts


def course_goals(course) -> list[Goal]:
    """As ``selectors.course_goals``: the course's live goals, in the order they were set."""
    found, (part,) = _fetch("course_page:goals", _goals_sql, [course.clinic_id, course.pk])
    return [part.instance(list(row)) for row in found]


def _areas_sql() -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(ProblemArea, "a"),
        rows.Columns(Relationship, "d", _PERSON_SHOWN),
        rows.Columns(Relationship, "o", _PERSON_SHOWN),
    ]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(ProblemArea)} a"
        f" LEFT JOIN {_table(Relationship)} d ON d.{_q('id')} = a.{_q('deceased_id')}"
        f" LEFT JOIN {_table(Relationship)} o ON o.{_q('id')} = a.{_q('other_party_id')}"
        f" WHERE a.{_q('removed_at')} IS NULL"
        f" AND a.{_q('clinic_id')} = %s AND a.{_q('course_id')} = %s"
        f" ORDER BY a.{_q('is_primary')} DESC, a.{_q('id')}"
    )
    return sql, parts


def _stage_entries_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(DisputeStageEntry, "e"), rows.Columns(User, "u", _STAFF_NAME)]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(DisputeStageEntry)} e"
        f" JOIN {_table(ProblemArea)} a ON a.{_q('id')} = e.{_q('problem_area_id')}"
        f" JOIN {_table(User)} u ON u.{_q('id')} = e.{_q('by_id')}"
        f" WHERE e.{_q('clinic_id')} = %s AND a.{_q('clinic_id')} = %s"
        f" AND a.{_q('course_id')} = %s AND a.{_q('removed_at')} IS NULL"
        f" AND a.{_q('kind')} = %s"
        f" ORDER BY e.{_q('recorded_on')}, e.{_q('at')}, e.{_q('id')}"
    )
    return sql, parts


def course_problem_area_rows(course) -> tuple[list[ProblemArea], list[DisputeStageEntry]]:
    """As ``selectors.problem_area_rows``: the course's live problem areas with the persons
    they name (what the page shows of them), and its role disputes' stage entries in order,
    each with who recorded it (none, and no statement, without a role dispute). The entries
    are read by the course's live role disputes rather than by a list of their ids."""
    found, parts = _fetch("course_page:areas", _areas_sql, [course.clinic_id, course.pk])
    areas = []
    for row in found:
        area, deceased, other_party = rows.instances(row, parts)
        area.deceased = deceased
        area.other_party = other_party
        areas.append(area)
    entries = []
    if any(area.kind == ProblemAreaKind.ROLE_DISPUTE for area in areas):
        found, parts = _fetch(
            "course_page:stage_entries",
            _stage_entries_sql,
            [
                course.clinic_id,
                course.clinic_id,
                course.pk,
                ProblemAreaKind.ROLE_DISPUTE.value,
            ],
        )
        for row in found:
            entry, by = rows.instances(row, parts)
            entry.by = by
            entries.append(entry)
    return areas, entries
