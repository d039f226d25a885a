"""The course page's reads of the sessions layer as fixed statements (``ipt_clinic.rows``):
the same rows, fields and related rows as the ORM's readings they stand for
(``homework.course_homework`` with ``homework.with_entries``, ``selectors.course_sessions``
and ``selectors.course_chart_data`` with the open risk flags), which stay the reference:
``tests/sessions/test_course_page_statements.py`` compares each with its ORM reading on
SQLite and PostgreSQL.

The bench's course page target needs them: compiling the page's ORM queries was about a
fifth of its work on every request, and a fixed statement is written once per process
(``rows.statement``).
"""

from collections import defaultdict

from django.db import connection

from ipt_clinic import rows
from ipt_clinic.accounts.models import User
from patients.models import LifeEvent
from phases.models import PhaseTransition

from . import selectors
from .models import (
    Assignment,
    HomeworkEntry,
    Measure,
    SessionNote,
    SessionStatus,
    TherapySession,
)

_q, _table, _fetch = rows.quote, rows.table, rows.fetch


def _converted(field, value):
    """One column's value read by itself, converted as the ORM converts it."""
    if value is None:
        return None
    column = field.get_col(field.model._meta.db_table)
    for converter in connection.ops.get_db_converters(column) + column.get_db_converters(
        connection
    ):
        value = converter(value, column, connection)
    return value


# --------------------------------------------------------------------------- sessions


def _sessions_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(TherapySession, "s")]
    sql = (
        f"SELECT {parts[0].sql}, n.{_q('id')}, n.{_q('signed_at')}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(TherapySession)} s"
        f" LEFT JOIN {_table(SessionNote)} n ON n.{_q('session_id')} = s.{_q('id')}"
        f" WHERE s.{_q('clinic_id')} = %s AND s.{_q('course_id')} = %s"
        f" ORDER BY s.{_q('scheduled_start')}, s.{_q('id')}"
    )
    return sql, parts


_NOTE_PK = SessionNote._meta.pk
_SIGNED_AT = SessionNote._meta.get_field("signed_at")


def course_sessions(course) -> list[TherapySession]:
    """As ``selectors.course_sessions``: all sessions of the course in order, each with its
    ``status_rank``, whether it is a booster and its note's state (``note_pk``,
    ``note_signed_at``)."""
    found, (part,) = _fetch("course_page:sessions", _sessions_sql, [course.clinic_id, course.pk])
    width = len(part.attnames)
    sessions = []
    for row in found:
        session = part.instance(list(row[:width]))
        session.note_pk = _converted(_NOTE_PK, row[width])
        session.note_signed_at = _converted(_SIGNED_AT, row[width + 1])
        sessions.append(session)
    return selectors.numbered_course_sessions(course, sessions)


# --------------------------------------------------------------------------- the chart


def _measures_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(Measure, "m"), rows.Columns(User, "ab")]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(Measure)} m"
        f" LEFT JOIN {_table(User)} ab ON ab.{_q('id')} = m.{_q('risk_acknowledged_by_id')}"
        f" WHERE m.{_q('clinic_id')} = %s AND m.{_q('course_id')} = %s"
        f" AND (m.{_q('superseded_at')} IS NULL"
        f" OR (m.{_q('risk_flag')} = %s AND m.{_q('risk_responded_at')} IS NULL))"
        f" ORDER BY m.{_q('taken_at')}, m.{_q('id')}"
    )
    return sql, parts


def _life_events_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(LifeEvent, "le")]
    sql = (
        f"SELECT {parts[0].sql}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(LifeEvent)} le"
        f" WHERE le.{_q('removed_at')} IS NULL"
        f" AND le.{_q('clinic_id')} = %s AND le.{_q('patient_id')} = %s"
        f" ORDER BY le.{_q('occurred_on')}, le.{_q('id')}"
    )
    return sql, parts


def course_chart_data(course, sessions: list, transitions: list | None = None):
    """As ``selectors.course_chart_data`` with ``with_open_risk_flags``: the chart's
    measures, the course's open risk flags (who acknowledged one set on it, as the ORM's
    prefetch sets it), its phase changes (unless the caller has them) and the patient's life
    events, and the attended sessions' numbers."""
    found, parts = _fetch(
        "course_page:measures", _measures_sql, [course.clinic_id, course.pk, True]
    )
    measures, flags = [], []
    for row in found:
        measure, acknowledged_by = rows.instances(row, parts)
        if measure.superseded_at is None:
            measures.append(measure)
        if measure.risk_flag and measure.risk_responded_at is None:
            flags.append(measure)
            if measure.risk_acknowledged_by_id is not None:
                measure.risk_acknowledged_by = acknowledged_by
    if transitions is None:
        transitions = list(
            PhaseTransition.objects.filter(
                clinic_id=course.clinic_id, course_id=course.pk
            ).order_by("at", "pk")
        )
    found, (part,) = _fetch(
        "course_page:life_events", _life_events_sql, [course.clinic_id, course.patient_id]
    )
    return selectors.ChartData(
        course=course,
        measures=measures,
        transitions=transitions,
        life_events=[part.instance(list(row)) for row in found],
        session_ordinals={
            s.pk: s.status_rank for s in sessions if s.status == SessionStatus.ATTENDED
        },
        open_risk_flags=flags,
    )


# --------------------------------------------------------------------------- homework


def _homework_sql() -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(Assignment, "a"),
        rows.Columns(TherapySession, "s", ("scheduled_start",)),
        rows.Columns(TherapySession, "r", ("scheduled_start",)),
    ]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(Assignment)} a"
        f" LEFT JOIN {_table(TherapySession)} s ON s.{_q('id')} = a.{_q('session_id')}"
        f" LEFT JOIN {_table(TherapySession)} r ON r.{_q('id')} = a.{_q('reviewed_in_id')}"
        f" WHERE a.{_q('clinic_id')} = %s AND a.{_q('course_id')} = %s"
        f" ORDER BY a.{_q('due_date')} DESC, a.{_q('id')} DESC"
    )
    return sql, parts


def _entries_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(HomeworkEntry, "e")]
    sql = (
        f"SELECT {parts[0].sql}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(HomeworkEntry)} e"
        f" JOIN {_table(Assignment)} a ON a.{_q('id')} = e.{_q('assignment_id')}"
        f" WHERE e.{_q('clinic_id')} = %s AND a.{_q('clinic_id')} = %s"
        f" AND a.{_q('course_id')} = %s"
        f" ORDER BY e.{_q('entry_date')}, e.{_q('created_at')}, e.{_q('id')}"
    )
    return sql, parts


def course_homework(course) -> list[Assignment]:
    """As ``homework.course_homework`` followed by ``homework.with_entries``: every piece of
    homework of the course, the latest due first, with the sessions it was set and reviewed
    in (their start only) and its entries (``entry_list``). The entries are read by the
    course, so two statements whatever their number (one when there is no homework)."""
    found, parts = _fetch("course_page:homework", _homework_sql, [course.clinic_id, course.pk])
    assignments = []
    for row in found:
        assignment, session, reviewed_in = rows.instances(row, parts)
        assignment.session = session
        assignment.reviewed_in = reviewed_in
        assignments.append(assignment)
    by_assignment: dict[int, list[HomeworkEntry]] = defaultdict(list)
    if assignments:
        entries, (entry_part,) = _fetch(
            "course_page:homework_entries",
            _entries_sql,
            [course.clinic_id, course.clinic_id, course.pk],
        )
        for row in entries:
            entry = entry_part.instance(list(row))
            by_assignment[entry.assignment_id].append(entry)
    for assignment in assignments:
        assignment.entry_list = by_assignment[assignment.pk]
    return assignments
