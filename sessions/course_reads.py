"""The course page's reads of the sessions layer as fixed statements (``ipt_clinic.rows``):
the same rows, fields and related rows as the ORM's readings they stand for
(``homework.course_homework`` with ``homework.with_entries``), which stay the reference:
``tests/sessions/test_course_page_statements.py`` compares each with its ORM reading on
SQLite and PostgreSQL.

The bench's course page target needs them: compiling the page's ORM queries was about a
fifth of its work on every request, and a fixed statement is written once per process
(``rows.statement``).
"""

from collections import defaultdict

from django.db import connection

from ipt_clinic import rows

from .models import Assignment, HomeworkEntry, TherapySession


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _fetch(key: str, build, params: list) -> tuple[list, list[rows.Columns]]:
    sql, parts = rows.statement(key, build)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall(), parts


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
