"""The session page's reads as fixed statements (``ipt_clinic.rows``): the same rows, fields
and related rows as the ORM's readings in ``selectors`` and ``worksheets`` (``session_page``,
``session_questionnaires``, ``session_homework`` with ``homework.with_entries``,
``note_addenda``, ``disputes_for_note``, ``session_worksheets``), which stay the reference:
``tests/sessions/test_session_page_reads.py`` compares each with its ORM reading on SQLite
and PostgreSQL.

The bench's session page target needs them: compiling its seven ORM queries (joins,
``only()``, filtered relations) was a third of the page's work on every request, and a fixed
statement is written once per process (``rows.statement``).
"""

from collections import defaultdict

from django.db import connection
from django.utils import timezone

from ipt_clinic import rows
from ipt_clinic.accounts.models import Clinic, User
from patients.access import RecordRefused, scoped_record_pk
from patients.models import Patient, Relationship
from phases.models import (
    DisputeStage,
    DisputeStageEntry,
    ProblemArea,
    ProblemAreaKind,
    TreatmentCourse,
)

from . import selectors
from .models import (
    Assignment,
    AssignmentStatus,
    HomeworkEntry,
    Measure,
    NoteAddendum,
    SessionNote,
    SessionStatus,
    TherapySession,
    Worksheet,
)
from .worksheets import worksheet_summary

_USER_NAME = ("id", "username", "first_name", "last_name")


_q, _table, _fetch = rows.quote, rows.table, rows.fetch


_START = TherapySession._meta.get_field("scheduled_start")


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


def _datetime(value):
    """A datetime as the ORM hands it to the database for a lookup."""
    return _START.get_db_prep_value(value, connection)


# --------------------------------------------------------------------------- the session


def _session_sql(*, therapist_only: bool) -> tuple[str, list[rows.Columns]]:
    # The outer table keeps its own name: ``selectors._RANK_SQL`` refers to it by it.
    session = _table(TherapySession)
    parts = [
        rows.Columns(TherapySession, session),
        rows.Columns(
            TreatmentCourse,
            "c",
            (
                "id",
                "clinic",
                "patient",
                "status",
                "phase",
                "planned_sessions",
                "sessions_attended",
            ),
        ),
        rows.Columns(
            Patient,
            "p",
            ("id", "clinic", "first_name", "last_name", "record_number", "status"),
        ),
        rows.Columns(Clinic, "cl", ("id", "name", "time_zone")),
        rows.Columns(User, "t", _USER_NAME),
        rows.Columns(SessionNote, "n"),
        rows.Columns(ProblemArea, "f", ("id", "kind")),
        rows.Columns(User, "sb", _USER_NAME),
        rows.Columns(User, "sg", _USER_NAME),
    ]
    sql = (
        f"SELECT {parts[0].sql}, ({selectors._RANK_SQL}), "  # noqa: S608 - names from the models  # nosec B608
        f"{', '.join(part.sql for part in parts[1:])}"
        f" FROM {session}"
        f" JOIN {_table(TreatmentCourse)} c ON c.{_q('id')} = {session}.{_q('course_id')}"
        f" JOIN {_table(Patient)} p ON p.{_q('id')} = c.{_q('patient_id')}"
        f" JOIN {_table(Clinic)} cl ON cl.{_q('id')} = {session}.{_q('clinic_id')}"
        f" JOIN {_table(User)} t ON t.{_q('id')} = {session}.{_q('therapist_id')}"
        f" LEFT JOIN {_table(SessionNote)} n ON n.{_q('session_id')} = {session}.{_q('id')}"
        f" LEFT JOIN {_table(ProblemArea)} f ON f.{_q('id')} = n.{_q('focus_problem_area_id')}"
        f" LEFT JOIN {_table(User)} sb ON sb.{_q('id')} = n.{_q('signed_by_id')}"
        f" LEFT JOIN {_table(User)} sg ON sg.{_q('id')} = n.{_q('signer_id')}"
        f" WHERE {session}.{_q('clinic_id')} = %s AND {session}.{_q('id')} = %s"
        + (f" AND p.{_q('primary_therapist_id')} = %s" if therapist_only else "")
    )
    return sql, parts


def session_page(session_id, user) -> tuple[TherapySession, SessionNote | None]:
    """As ``selectors.session_page``: the session with its rank, course, patient, clinic,
    therapist and note (its focus, signer and who signed it), through the same access check
    as ``patients.access.get_scoped_or_404`` (Http404 for outsiders and missing rows); and
    its note, or None (``session.note`` is then left unread: the page asks for neither)."""
    pk = scoped_record_pk(user, TherapySession, session_id)
    refused = RecordRefused("Not found.", model=TherapySession, record_id=session_id)
    therapist_only = not user.is_clinic_admin
    params = [SessionStatus.SCHEDULED.value, _datetime(timezone.now()), user.clinic_id, pk]
    if therapist_only:
        params.append(user.pk)
    found, parts = _fetch(
        f"session_page:{'therapist' if therapist_only else 'admin'}",
        lambda: _session_sql(therapist_only=therapist_only),
        params,
    )
    if not found:
        raise refused
    row = found[0]
    width = len(parts[0].attnames)
    session = parts[0].instance(list(row[:width]))
    session.status_rank = row[width]
    course, patient, clinic, therapist, note, focus, signed_by, signer = rows.instances(
        row[width + 1 :], parts[1:]
    )
    course.patient = patient
    session.course = course
    session.clinic = clinic
    session.therapist = therapist
    if note is not None:
        note.focus_problem_area = focus
        note.signed_by = signed_by
        note.signer = signer
        session.note = note
    return selectors.share_clinic(session), note


# --------------------------------------------------------------------------- questionnaires


def _measures_sql() -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(Measure, "m"),
        rows.Columns(User, "rb", _USER_NAME),
        rows.Columns(User, "ab", _USER_NAME),
    ]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(Measure)} m"
        f" LEFT JOIN {_table(User)} rb ON rb.{_q('id')} = m.{_q('risk_responded_by_id')}"
        f" LEFT JOIN {_table(User)} ab ON ab.{_q('id')} = m.{_q('risk_acknowledged_by_id')}"
        f" WHERE m.{_q('clinic_id')} = %s AND m.{_q('session_id')} = %s"
        f" AND (m.{_q('superseded_at')} IS NULL"
        f" OR (m.{_q('risk_flag')} = %s AND m.{_q('risk_responded_at')} IS NULL))"
        f" ORDER BY m.{_q('taken_at')}, m.{_q('id')}"
    )
    return sql, parts


def session_questionnaires(session: TherapySession) -> selectors.SessionMeasures:
    """As ``selectors.session_questionnaires``."""
    found, parts = _fetch(
        "session_page:measures", _measures_sql, [session.clinic_id, session.pk, True]
    )
    measures = []
    for row in found:
        measure, responded_by, acknowledged_by = rows.instances(row, parts)
        measure.risk_responded_by = responded_by
        measure.risk_acknowledged_by = acknowledged_by
        measures.append(measure)
    return selectors.SessionMeasures(
        listed=[m for m in measures if m.superseded_at is None],
        open_flags=[m for m in measures if m.risk_flag and m.risk_responded_at is None],
    )


# --------------------------------------------------------------------------- addenda


def _addenda_sql() -> tuple[str, list[rows.Columns]]:
    parts = [rows.Columns(NoteAddendum, "a"), rows.Columns(User, "u", _USER_NAME)]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(NoteAddendum)} a"
        f" JOIN {_table(User)} u ON u.{_q('id')} = a.{_q('author_id')}"
        f" WHERE a.{_q('clinic_id')} = %s AND a.{_q('note_id')} = %s"
        f" ORDER BY a.{_q('created_at')}, a.{_q('id')}"
    )
    return sql, parts


def note_addenda(note: SessionNote | None) -> list[NoteAddendum]:
    """As ``selectors.note_addenda``: none (and no query) for a draft."""
    if note is None or note.signed_at is None:
        return []
    found, parts = _fetch("session_page:addenda", _addenda_sql, [note.clinic_id, note.pk])
    addenda = []
    for row in found:
        addendum, author = rows.instances(row, parts)
        addendum.author = author
        addenda.append(addendum)
    return addenda


# --------------------------------------------------------------------------- homework


def _homework_sql() -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(Assignment, "a"),
        rows.Columns(Relationship, "r", ("id", "name")),
        rows.Columns(ProblemArea, "pa", ("id", "kind")),
    ]
    sql = (
        f"SELECT {parts[0].sql}, s.{_q('scheduled_start')}, "  # noqa: S608 - names from the models  # nosec B608
        f"{parts[1].sql}, {parts[2].sql}"
        f" FROM {_table(Assignment)} a"
        f" LEFT JOIN {_table(TherapySession)} s ON s.{_q('id')} = a.{_q('session_id')}"
        f" LEFT JOIN {_table(Relationship)} r ON r.{_q('id')} = a.{_q('relationship_id')}"
        f" LEFT JOIN {_table(ProblemArea)} pa ON pa.{_q('id')} = a.{_q('problem_area_id')}"
        f" WHERE a.{_q('clinic_id')} = %s AND a.{_q('course_id')} = %s"
        f" AND (a.{_q('reviewed_in_id')} IS NULL OR a.{_q('reviewed_in_id')} = %s"
        f" OR a.{_q('session_id')} = %s)"
        f" ORDER BY a.{_q('due_date')}, a.{_q('id')}"
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
        f" AND (a.{_q('reviewed_in_id')} IS NULL OR a.{_q('reviewed_in_id')} = %s"
        f" OR a.{_q('session_id')} = %s)"
        f" ORDER BY e.{_q('entry_date')}, e.{_q('created_at')}, e.{_q('id')}"
    )
    return sql, parts


def session_homework(session: TherapySession) -> selectors.SessionHomework:
    """As ``selectors.session_homework`` followed by ``homework.with_entries`` on both lists:
    each listed assignment with its entries (``entry_list``). The entries are read by the
    same condition as the assignments, so two statements whatever their number."""
    candidate = [session.clinic_id, session.course_id, session.pk, session.pk]
    found, parts = _fetch("session_page:homework", _homework_sql, candidate)
    width = len(parts[0].attnames)
    assignments = []
    for row in found:
        assignment = parts[0].instance(list(row[:width]))
        assignment.set_at = _converted(_START, row[width])
        relationship, problem_area = rows.instances(row[width + 1 :], parts[1:])
        assignment.relationship = relationship
        assignment.problem_area = problem_area
        assignments.append(assignment)
    set_here = [a for a in assignments if a.session_id == session.pk]
    for_review = [a for a in assignments if _is_for_review(a, session)]
    listed = {a.pk: a for a in set_here + for_review}
    by_assignment: dict[int, list[HomeworkEntry]] = defaultdict(list)
    if listed:
        entries, (entry_part,) = _fetch(
            "session_page:homework_entries", _entries_sql, [session.clinic_id, *candidate]
        )
        for row in entries:
            entry = entry_part.instance(list(row))
            if entry.assignment_id in listed:
                by_assignment[entry.assignment_id].append(entry)
    for assignment in listed.values():
        assignment.entry_list = by_assignment[assignment.pk]
    return selectors.SessionHomework(set_here=set_here, for_review=for_review)


def _is_for_review(assignment: Assignment, session: TherapySession) -> bool:
    """As ``selectors._is_for_review``."""
    return (
        assignment.status != AssignmentStatus.WITHDRAWN
        and assignment.reviewed_in_id in (None, session.pk)
        and (assignment.set_at is None or assignment.set_at < session.scheduled_start)
    )


# --------------------------------------------------------------------------- disputes


def _disputes_sql() -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(ProblemArea, "a"),
        rows.Columns(Relationship, "o", ("id", "name")),
    ]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}, "  # noqa: S608 - names from the models  # nosec B608
        f"e.{_q('stage')}, e.{_q('note')}, e.{_q('at')}, e.{_q('id')}"
        f" FROM {_table(ProblemArea)} a"
        f" LEFT JOIN {_table(Relationship)} o ON o.{_q('id')} = a.{_q('other_party_id')}"
        f" LEFT JOIN {_table(DisputeStageEntry)} e ON e.{_q('problem_area_id')} = a.{_q('id')}"
        f" AND e.{_q('clinic_id')} = %s AND e.{_q('session_id')} = %s"
        f" WHERE a.{_q('clinic_id')} = %s AND a.{_q('course_id')} = %s"
        f" AND a.{_q('removed_at')} IS NULL AND a.{_q('kind')} = %s"
        f" ORDER BY a.{_q('is_primary')} DESC, a.{_q('id')}"
    )
    return sql, parts


def disputes_for_note(session: TherapySession) -> list[ProblemArea]:
    """As ``selectors.disputes_for_note``: the course's role disputes, each with the latest
    stage recorded at ``session`` and the other party's name."""
    found, parts = _fetch(
        "session_page:disputes",
        _disputes_sql,
        [
            session.clinic_id,
            session.pk,
            session.clinic_id,
            session.course_id,
            ProblemAreaKind.ROLE_DISPUTE.value,
        ],
    )
    at_field = DisputeStageEntry._meta.get_field("at")
    areas: dict[int, ProblemArea] = {}
    width = len(parts[0].attnames) + len(parts[1].attnames)
    for row in found:
        area, other_party = rows.instances(row[:width], parts)
        area.other_party = other_party
        area.entry_stage, area.entry_note, entry_at, area.entry_id = row[width:]
        area.entry_at = _converted(at_field, entry_at)
        kept = areas.setdefault(area.pk, area)
        if area.entry_id is not None and (
            kept.entry_id is None or (area.entry_at, area.entry_id) > (kept.entry_at, kept.entry_id)
        ):
            areas[area.pk] = area
    labels = dict(DisputeStage.choices)
    for area in areas.values():
        area.session_stage = area.entry_stage
        area.session_stage_note = area.entry_note
        area.session_stage_label = labels.get(area.session_stage, "")
        area.other_name = area.other_party.name if area.other_party_id else "the other party"
    return list(areas.values())


# --------------------------------------------------------------------------- worksheets


def _worksheets_sql() -> tuple[str, list[rows.Columns]]:
    parts = [
        rows.Columns(Worksheet, "w"),
        rows.Columns(ProblemArea, "pa", ("id", "kind", "removed_at")),
        rows.Columns(Relationship, "r", ("id", "name")),
        rows.Columns(Assignment, "a", ("id", "title", "due_date", "status")),
    ]
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models  # nosec B608
        f" FROM {_table(Worksheet)} w"
        f" JOIN {_table(ProblemArea)} pa ON pa.{_q('id')} = w.{_q('problem_area_id')}"
        f" LEFT JOIN {_table(Relationship)} r ON r.{_q('id')} = w.{_q('relationship_id')}"
        f" LEFT JOIN {_table(Assignment)} a ON a.{_q('id')} = w.{_q('assignment_id')}"
        f" WHERE w.{_q('clinic_id')} = %s AND w.{_q('session_id')} = %s"
        f" AND w.{_q('removed_at')} IS NULL"
        f" ORDER BY w.{_q('created_at')}, w.{_q('id')}"
    )
    return sql, parts


def session_worksheets(session: TherapySession) -> list[Worksheet]:
    """As ``worksheets.session_worksheets``: the session's worksheets in the order written,
    each with its problem area, person, homework and summary line."""
    found, parts = _fetch(
        "session_page:worksheets", _worksheets_sql, [session.clinic_id, session.pk]
    )
    worksheets = []
    for row in found:
        worksheet, problem_area, relationship, assignment = rows.instances(row, parts)
        worksheet.problem_area = problem_area
        worksheet.relationship = relationship
        worksheet.assignment = assignment
        worksheet.session = session
        worksheet.summary = worksheet_summary(worksheet)
        worksheets.append(worksheet)
    return worksheets
