"""The note form's fixed reads as fixed SQL statements (``ipt_clinic/rows.py``): the session's
worksheets and the earlier ones, the goals with this session's reviews, the problem areas
with their stage at the session, the homework to review, and the risk flags.

Kept by measurement (issue 18): the note form (bench key ``note_get``) missed its 25-ms p95
target, and Django building and compiling these five queries was about a third of the
page's CPU (``/work/prof.py note_get``). Each function here gives what its ORM counterpart
gives (named in its docstring), in the same order, with the same columns read and the
others deferred: tests/sessions/test_note_reads.py compares the two on SQLite and
PostgreSQL. The ORM ones stay the reference, and serve every other page.
"""

from __future__ import annotations

from django.db import connection

from ipt_clinic.rows import Columns, instances, statement
from ipt_clinic.rows import table as _table
from patients.models import Relationship
from phases.models import DisputeStage, Goal, ProblemArea, ProblemAreaKind, TreatmentCourse

from . import selectors
from .models import Assignment, GoalReview, Measure, SessionNote, TherapySession, Worksheet
from .worksheets import EarlierWorksheets, _earlier, worksheet_summary

_USER_NAMES = ("username", "first_name", "last_name")


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _prep(model, name: str, value):
    """``value`` as the ORM hands it to the database for a lookup on ``model.name``."""
    return model._meta.get_field(name).get_db_prep_value(value, connection)


def _read(key: str, build, params: list) -> tuple[list, list[Columns]]:
    sql, parts = statement(key, build)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall(), parts


# --------------------------------------------------------------------------- worksheets


def _worksheets_sql() -> tuple[str, list[Columns]]:
    W, S, A, R, H = Worksheet, TherapySession, ProblemArea, Relationship, Assignment  # noqa: N806
    parts = [
        Columns(W, "w"),
        Columns(S, "s", names=("clinic", "scheduled_start", "status")),
        Columns(A, "a", names=("kind", "removed_at")),
        Columns(R, "r", names=("name",)),
        Columns(H, "h", names=("title", "due_date", "status")),
    ]
    c = _column
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models, values as parameters  # nosec B608
        f" FROM {_table(W)} w"
        f" INNER JOIN {_table(S)} s ON w.{c(W, 'session')} = s.{c(S, 'id')}"
        f" INNER JOIN {_table(A)} a ON w.{c(W, 'problem_area')} = a.{c(A, 'id')}"
        f" LEFT OUTER JOIN {_table(R)} r ON w.{c(W, 'relationship')} = r.{c(R, 'id')}"
        f" LEFT OUTER JOIN {_table(H)} h ON w.{c(W, 'assignment')} = h.{c(H, 'id')}"
        f" WHERE ((w.{c(W, 'session')} = %s"
        f" OR (w.{c(W, 'course')} = %s AND s.{c(S, 'scheduled_start')} < %s))"
        f" AND w.{c(W, 'clinic')} = %s AND w.{c(W, 'removed_at')} IS NULL)"
        f" ORDER BY s.{c(S, 'scheduled_start')} DESC, w.{c(W, 'created_at')} ASC,"
        f" w.{c(W, 'id')} ASC"
    )
    return sql, parts


def note_worksheets(session: TherapySession) -> tuple[list[Worksheet], EarlierWorksheets]:
    """As ``worksheets.note_worksheets``."""
    found, parts = _read(
        "note-form:worksheets",
        _worksheets_sql,
        [
            session.pk,
            session.course_id,
            _prep(TherapySession, "scheduled_start", session.scheduled_start),
            session.clinic_id,
        ],
    )
    worksheets = []
    for row in found:
        worksheet, its_session, area, person, assignment = instances(row, parts)
        worksheet.session = its_session
        worksheet.problem_area = area
        worksheet.relationship = person
        worksheet.assignment = assignment
        worksheets.append(worksheet)
    own = [w for w in worksheets if w.session_id == session.pk]
    for worksheet in own:
        worksheet.summary = worksheet_summary(worksheet)
    return own, _earlier(worksheets[len(own) :])


# --------------------------------------------------------------------------- goals


def _goals_sql() -> tuple[str, list[Columns]]:
    G, V = Goal, GoalReview  # noqa: N806
    parts = [Columns(G, "g"), Columns(V, "v", names=("progress", "status"))]
    c = _column
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models, values as parameters  # nosec B608
        f" FROM {_table(G)} g"
        f" LEFT OUTER JOIN {_table(V)} v ON g.{c(G, 'id')} = v.{c(V, 'goal')}"
        f" AND v.{c(V, 'session')} = %s"
        f" WHERE g.{c(G, 'clinic')} = %s AND g.{c(G, 'course')} = %s"
        f" AND g.{c(G, 'removed_at')} IS NULL"
        f" ORDER BY g.{c(G, 'id')} ASC"
    )
    return sql, parts


def goals_for_review(session: TherapySession) -> list[Goal]:
    """As ``selectors.goals_for_review``."""
    found, parts = _read(
        "note-form:goals", _goals_sql, [session.pk, session.clinic_id, session.course_id]
    )
    goals = []
    for row in found:
        goal, review = instances(row, parts)
        goal.review_progress = review.progress if review is not None else None
        goal.review_status = review.status if review is not None else None
        goals.append(goal)
    return goals


# --------------------------------------------------------------------------- problem areas


def _areas_sql() -> tuple[str, list[Columns]]:
    from phases.models import DisputeStageEntry

    A, E, R = ProblemArea, DisputeStageEntry, Relationship  # noqa: N806
    parts = [
        Columns(A, "a"),
        Columns(E, "e", names=("stage", "note", "at")),
        Columns(R, "r", names=("name",)),
    ]
    c = _column
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models, values as parameters  # nosec B608
        f" FROM {_table(A)} a"
        f" LEFT OUTER JOIN {_table(E)} e ON a.{c(A, 'id')} = e.{c(E, 'problem_area')}"
        f" AND e.{c(E, 'clinic')} = %s AND e.{c(E, 'session_id')} = %s"
        f" LEFT OUTER JOIN {_table(R)} r ON a.{c(A, 'other_party')} = r.{c(R, 'id')}"
        f" WHERE a.{c(A, 'clinic')} = %s AND a.{c(A, 'course')} = %s"
        f" AND a.{c(A, 'removed_at')} IS NULL"
        f" ORDER BY a.{c(A, 'is_primary')} DESC, a.{c(A, 'id')} ASC"
    )
    return sql, parts


def note_problem_areas(session: TherapySession) -> selectors.NoteProblemAreas:
    """As ``selectors.note_problem_areas``."""
    found, parts = _read(
        "note-form:problem-areas",
        _areas_sql,
        [session.clinic_id, session.pk, session.clinic_id, session.course_id],
    )
    areas: dict[int, ProblemArea] = {}
    for row in found:
        area, entry, other_party = instances(row, parts)
        area.other_party = other_party
        area.entry_stage = entry.stage if entry is not None else None
        area.entry_note = entry.note if entry is not None else None
        area.entry_at = entry.at if entry is not None else None
        area.entry_id = entry.pk if entry is not None else None
        # The latest entry at the session, as ``selectors._areas_at_session`` keeps it.
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
    live = list(areas.values())
    return selectors.NoteProblemAreas(
        live=live, disputes=[a for a in live if a.kind == ProblemAreaKind.ROLE_DISPUTE]
    )


# --------------------------------------------------------------------------- homework


def _homework_sql() -> tuple[str, list[Columns]]:
    H, S = Assignment, TherapySession  # noqa: N806
    parts = [Columns(H, "h"), Columns(S, "s", names=("scheduled_start",))]
    c = _column
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models, values as parameters  # nosec B608
        f" FROM {_table(H)} h"
        f" LEFT OUTER JOIN {_table(S)} s ON h.{c(H, 'session')} = s.{c(S, 'id')}"
        f" WHERE h.{c(H, 'clinic')} = %s AND h.{c(H, 'course')} = %s"
        f" AND (h.{c(H, 'reviewed_in')} IS NULL OR h.{c(H, 'reviewed_in')} = %s"
        f" OR h.{c(H, 'session')} = %s)"
        f" ORDER BY h.{c(H, 'due_date')} ASC, h.{c(H, 'id')} ASC"
    )
    return sql, parts


def homework_for_review(session: TherapySession) -> list[Assignment]:
    """As ``selectors.homework_for_review``."""
    found, parts = _read(
        "note-form:homework",
        _homework_sql,
        [session.clinic_id, session.course_id, session.pk, session.pk],
    )
    candidates = []
    for row in found:
        assignment, set_in = instances(row, parts)
        assignment.set_at = set_in.scheduled_start if set_in is not None else None
        candidates.append(assignment)
    return [a for a in candidates if selectors._is_for_review(a, session)]


# --------------------------------------------------------------------------- risk flags


def _flags_sql() -> tuple[str, list[Columns]]:
    from django.contrib.auth import get_user_model

    M, C, U = Measure, TreatmentCourse, get_user_model()  # noqa: N806
    parts = [
        Columns(M, "m"),
        Columns(U, "ack", names=_USER_NAMES),
        Columns(U, "resp", names=_USER_NAMES),
    ]
    c = _column
    sql = (
        f"SELECT {', '.join(part.sql for part in parts)}"  # noqa: S608 - names from the models, values as parameters  # nosec B608
        f" FROM {_table(M)} m"
        f" INNER JOIN {_table(C)} c ON m.{c(M, 'course')} = c.{c(C, 'id')}"
        f" LEFT OUTER JOIN {_table(U)} ack ON m.{c(M, 'risk_acknowledged_by')} = ack.{c(U, 'id')}"
        f" LEFT OUTER JOIN {_table(U)} resp ON m.{c(M, 'risk_responded_by')} = resp.{c(U, 'id')}"
        f" WHERE ((m.{c(M, 'risk_flag')} AND m.{c(M, 'risk_responded_at')} IS NULL)"
        f" OR m.{c(M, 'risk_closed_in_note')} = %s)"
        f" AND m.{c(M, 'clinic')} = %s AND c.{c(C, 'patient')} = %s"
        f" ORDER BY m.{c(M, 'taken_at')} ASC, m.{c(M, 'id')} ASC"
    )
    return sql, parts


def note_risk_flags(note: SessionNote, *, patient_id: int) -> selectors.NoteRiskFlags:
    """As ``selectors.note_risk_flags``."""
    found, parts = _read("note-form:risk-flags", _flags_sql, [note.pk, note.clinic_id, patient_id])
    flags = []
    for row in found:
        measure, acknowledged_by, responded_by = instances(row, parts)
        measure.risk_acknowledged_by = acknowledged_by
        measure.risk_responded_by = responded_by
        flags.append(measure)
    return selectors.NoteRiskFlags(
        open=[m for m in flags if m.risk_flag and m.risk_responded_at is None],
        closed=[m for m in flags if m.risk_closed_in_note_id == note.pk],
    )
