"""Worksheets: the structured work of the middle phase, done in a session.

A communication analysis, a decision analysis or a role play is written into a worksheet of
the session it was done in, about one problem area of the course and, where it applies, one
person of the inventory (``models.Worksheet``). The course page lists them (a panel of its
own, ``course_worksheets_context``), the next session's note shows the earlier ones, and each
counts as its technique ticked on the session's note. A role play's follow-on homework
becomes a real assignment with one click (``worksheet_set_homework``), through
``services.assignment_set`` so that the patient gets its notice.

The rules: a worksheet is written by the one who writes the session's note, once the session
has started, not for a cancelled session or one the patient did not attend; signing the note
locks the session's worksheets with it (later words go into an addendum). Every change is
audited; a worksheet is never deleted, only marked removed.
"""

import functools
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from ipt_clinic.audit.services import AuditAction, audit_record, diff_fields
from ipt_clinic.editing import save_versioned
from ipt_clinic.submissions.services import (
    AlreadySaved,
    FormPurpose,
    submission_claim,
    submission_done,
    submission_repeat_answer,
)
from ipt_clinic.urls_by_pk import pk_reverser
from patients.models import Relationship
from phases.models import ProblemArea, ProblemAreaKind

from .display import day_and_time
from .models import (
    CANCELLED_STATUSES,
    WORKSHEET_FIELDS,
    Assignment,
    AssignmentKind,
    SessionNote,
    SessionStatus,
    TherapySession,
    Worksheet,
    WorksheetKind,
)

# The worksheet form carries a one-time key bound to its session (ipt_clinic.submissions).
WORKSHEET_FORM = FormPurpose("therapy.worksheet")

# What a worksheet of each kind must say before it is saved.
REQUIRED = {
    WorksheetKind.COMMUNICATION_ANALYSIS: {"incident": "Say what the incident was."},
    WorksheetKind.DECISION_ANALYSIS: {"decision": "Say what the decision is."},
    WorksheetKind.ROLE_PLAY: {"scene": "Describe the scene that was played."},
}
MIN_DECISION_OPTIONS = 2
LINK_FIELDS = ("problem_area_id", "relationship_id")
LOCKED_MESSAGE = (
    "This session's note is signed and locked, and its worksheets with it: add an addendum "
    "to the note instead."
)


# --------------------------------------------------------------------------- changes


def session_refusal(session: TherapySession, note: SessionNote | None) -> str:
    """Why no worksheet of ``session`` may be written or changed now ("" when it may)."""
    if session.status in CANCELLED_STATUSES:
        return "This session was cancelled: it has no worksheets."
    if session.status == SessionStatus.NO_SHOW:
        return "The patient did not attend this session: it has no worksheets."
    if session.scheduled_start > timezone.now():
        return "This session has not started yet: worksheets are written once it has."
    if note is not None and note.signed_at is not None:
        return LOCKED_MESSAGE
    return ""


def worksheets_refusal(session: TherapySession) -> str:
    """``session_refusal`` for a session read without its note (one query for it)."""
    note = SessionNote.objects.filter(session_id=session.pk).only("signed_at").first()
    return session_refusal(session, note)


def primary_problem_area_id(course) -> int | None:
    """The course's primary problem area (the first agreed if none is marked primary)."""
    return (
        ProblemArea.objects.filter(
            clinic_id=course.clinic_id, course_id=course.pk, removed_at__isnull=True
        )
        .order_by("-is_primary", "pk")
        .values_list("pk", flat=True)
        .first()
    )


def _link_errors(
    worksheet: Worksheet, problem_area, relationship, *, before: dict | None = None
) -> dict:
    """The problem area must be this course's and the person this patient's, neither removed
    (unless the worksheet already named them before they were)."""
    before = before or {}
    errors = {}
    if problem_area is None:
        errors["problem_area"] = "Choose the problem area this work was about."
    elif (
        problem_area.pk != before.get("problem_area_id")
        and not ProblemArea.objects.filter(
            clinic_id=worksheet.clinic_id,
            course_id=worksheet.course_id,
            pk=problem_area.pk,
            removed_at__isnull=True,
        ).exists()
    ):
        errors["problem_area"] = "Choose a problem area of this course."
    if (
        relationship is not None
        and relationship.pk != before.get("relationship_id")
        and not Relationship.objects.filter(
            clinic_id=worksheet.clinic_id,
            patient_id=worksheet.course.patient_id,
            pk=relationship.pk,
            removed_at__isnull=True,
        ).exists()
    ):
        errors["relationship"] = "Choose a person from this patient's inventory."
    return errors


def _set_content(worksheet: Worksheet, fields: dict) -> dict:
    """Put the typed content on ``worksheet``: text trimmed, empty options left out. Returns
    the errors of what its kind requires."""
    unknown = set(fields) - set(WORKSHEET_FIELDS[worksheet.kind])
    if unknown:
        raise TypeError(f"a {worksheet.kind} worksheet has no {sorted(unknown)}")
    for name, value in fields.items():
        if name == "options":
            value = [
                {part: (option.get(part) or "").strip() for part in ("option", "pros", "cons")}
                for option in value or []
            ]
            value = [option for option in value if any(option.values())]
        else:
            value = (value or "").strip()
        setattr(worksheet, name, value)
    errors = {
        name: message
        for name, message in REQUIRED[worksheet.kind].items()
        if not getattr(worksheet, name)
    }
    if worksheet.kind == WorksheetKind.DECISION_ANALYSIS:
        named = [option for option in worksheet.options if option["option"]]
        if len(named) < MIN_DECISION_OPTIONS:
            errors["options"] = (
                f"Write at least {MIN_DECISION_OPTIONS} options, each with its pros and cons."
            )
        elif len(named) < len(worksheet.options):
            errors["options"] = "Each option with pros or cons needs to say what the option is."
    return errors


def _audit(worksheet: Worksheet, *, by, action: str, summary: str, changes, request) -> None:
    audit_record(
        action=action,
        clinic_id=worksheet.clinic_id,
        actor=by,
        patient_id=worksheet.course.patient_id,
        target=worksheet,
        summary=summary,
        changes=changes,
        request=request,
    )


def _audited_fields(kind: str) -> list[str]:
    return [*LINK_FIELDS, *WORKSHEET_FIELDS[kind]]


def worksheet_create(
    *,
    session: TherapySession,
    by,
    kind: str,
    problem_area: ProblemArea | None,
    relationship: Relationship | None = None,
    request=None,
    form_key: str | None = None,
    **fields,
) -> Worksheet:
    """Write a worksheet of ``kind`` for ``session`` with its ``fields``
    (``WORKSHEET_FIELDS[kind]``). ``form_key`` is the one-time key of the form sent
    (``WORKSHEET_FORM``, bound to the session), under the rule of ``ipt_clinic.submissions``;
    internal callers leave it out."""
    if kind not in WorksheetKind.values:
        raise ValidationError({"kind": "Choose a kind of worksheet."})
    with transaction.atomic():
        claim = submission_claim(
            binding=WORKSHEET_FORM.bind(session),
            key=form_key,
            content={
                "kind": kind,
                "problem_area": problem_area,
                "relationship": relationship,
                **fields,
            },
            by=by,
        )
        if claim.repeated:
            submission_repeat_answer(
                claim, Worksheet, describe=lambda sheet: f"the {sheet.get_kind_display().lower()}"
            )
        # The session row locked, as signing the note locks it: a worksheet is not added to a
        # note being signed at the same moment.
        session = (
            TherapySession.objects.select_for_update(of=("self",))
            .select_related("course")
            .get(pk=session.pk)
        )
        refusal = worksheets_refusal(session)
        if refusal:
            raise ValidationError(refusal)
        worksheet = Worksheet(
            clinic_id=session.clinic_id,
            course=session.course,
            session=session,
            kind=kind,
            problem_area=problem_area,
            relationship=relationship,
            created_by=by,
        )
        errors = _link_errors(worksheet, problem_area, relationship)
        errors |= _set_content(worksheet, fields)
        if errors:
            raise ValidationError(errors)
        worksheet.full_clean()
        worksheet.save()
        submission_done(claim, worksheet)
        kind_fields = _audited_fields(kind)
        _audit(
            worksheet,
            by=by,
            action=AuditAction.CREATE,
            summary=f"Worksheet written: {worksheet.get_kind_display().lower()}",
            changes=diff_fields(dict.fromkeys(kind_fields), worksheet, kind_fields),
            request=request,
        )
    return worksheet


def _locked_for_change(worksheet: Worksheet) -> Worksheet:
    """The worksheet row locked for the change, with its course, refused when removed or when
    its session no longer takes changes. Call inside the transaction."""
    worksheet = (
        Worksheet.objects.select_for_update(of=("self",))
        .select_related("course", "session")
        .get(pk=worksheet.pk)
    )
    if worksheet.removed_at is not None:
        raise ValidationError("This worksheet was removed.")
    # The session row too, as signing the note locks it (see worksheet_create).
    list(TherapySession.objects.select_for_update().filter(pk=worksheet.session_id).values("pk"))
    refusal = worksheets_refusal(worksheet.session)
    if refusal:
        raise ValidationError(refusal)
    return worksheet


@transaction.atomic
def worksheet_update(
    *,
    worksheet: Worksheet,
    by,
    expected_version: int | None,
    problem_area: ProblemArea | None,
    relationship: Relationship | None = None,
    request=None,
    **fields,
) -> Worksheet:
    """Change a worksheet if still at ``expected_version`` (``None``: no check, for internal
    callers only); otherwise ``StaleEditError`` with the stored row, nothing written."""
    worksheet = _locked_for_change(worksheet)
    audited = _audited_fields(worksheet.kind)
    before = {name: getattr(worksheet, name) for name in audited}
    links_before = {
        "problem_area_id": worksheet.problem_area_id,
        "relationship_id": worksheet.relationship_id,
    }
    worksheet.problem_area, worksheet.relationship = problem_area, relationship
    errors = _link_errors(worksheet, problem_area, relationship, before=links_before)
    errors |= _set_content(worksheet, fields)
    if errors:
        raise ValidationError(errors)
    changes = diff_fields(before, worksheet, audited)
    if changes:
        worksheet.full_clean()
        save_versioned(worksheet, expected_version=expected_version, fields=list(changes))
        _audit(
            worksheet,
            by=by,
            action=AuditAction.UPDATE,
            summary=f"Worksheet changed: {worksheet.get_kind_display().lower()}",
            changes=changes,
            request=request,
        )
    return worksheet


@transaction.atomic
def worksheet_remove(*, worksheet: Worksheet, by, request=None) -> Worksheet:
    """Mark a worksheet removed (it stays in the record and its audit trail). Homework set
    from it stays set: it is the patient's, withdrawn on its own if need be."""
    worksheet = _locked_for_change(worksheet)
    worksheet.removed_at = timezone.now()
    save_versioned(worksheet, expected_version=None, fields=["removed_at"])
    _audit(
        worksheet,
        by=by,
        action=AuditAction.UPDATE,
        summary=f"Worksheet removed: {worksheet.get_kind_display().lower()}",
        changes={"removed_at": [None, worksheet.removed_at.isoformat()]},
        request=request,
    )
    return worksheet


def homework_due_date(session: TherapySession, tz):
    """When a role play's follow-on homework is due: the day of the course's next session
    booked after this one, or a week after this one; never before today (clinic time)."""
    following = (
        TherapySession.objects.filter(
            clinic_id=session.clinic_id,
            course_id=session.course_id,
            status=SessionStatus.SCHEDULED,
            scheduled_start__gt=session.scheduled_start,
        )
        .order_by("scheduled_start")
        .values_list("scheduled_start", flat=True)
        .first()
    )
    due = timezone.localdate(following or session.scheduled_start + timedelta(days=7), tz)
    return max(due, timezone.localdate(timezone=tz))


def worksheet_set_homework(*, worksheet: Worksheet, by, request=None) -> Assignment:
    """Set a role play's follow-on as homework: a real assignment of its session (its notice
    to the patient goes into the outbox in the same transaction), about the role play's
    person and problem area, due at the next session. Once only: a second call raises
    ``AlreadySaved`` with the homework set the first time. Allowed after the note is signed
    (homework is not part of the note), not once the worksheet is removed."""
    from . import services

    with transaction.atomic():
        worksheet = (
            Worksheet.objects.select_for_update(of=("self",))
            .select_related("course", "session__clinic", "problem_area", "relationship")
            .get(pk=worksheet.pk)
        )
        if worksheet.assignment_id is not None:
            raise AlreadySaved(Assignment.objects.get(pk=worksheet.assignment_id))
        if worksheet.removed_at is not None:
            raise ValidationError("This worksheet was removed.")
        if worksheet.kind != WorksheetKind.ROLE_PLAY:
            raise ValidationError("Only a role play has follow-on homework.")
        if not worksheet.follow_on:
            raise ValidationError("Write the follow-on homework on the role play first.")
        session = worksheet.session
        area, person = worksheet.problem_area, worksheet.relationship
        assignment = services.assignment_set(
            session=session,
            by=by,
            title=f"Role-play practice: {Truncator(worksheet.scene).chars(120)}",
            instructions=worksheet.follow_on,
            kind=AssignmentKind.ROLE_PLAY,
            relationship=person if person is not None and person.removed_at is None else None,
            problem_area=area if area.removed_at is None else None,
            due_date=homework_due_date(session, session.clinic.tz),
            request=request,
        )
        # The link, not the worksheet's content: it leaves the version alone, so that a form
        # open on the worksheet still saves.
        Worksheet.objects.filter(pk=worksheet.pk).update(assignment=assignment)
        worksheet.assignment = assignment
        _audit(
            worksheet,
            by=by,
            action=AuditAction.UPDATE,
            summary="Homework set from a role play",
            changes={"assignment": [None, assignment.pk]},
            request=request,
        )
    return assignment


# --------------------------------------------------------------------------- reads

_LISTED = ("session", "problem_area", "relationship", "assignment")
_LISTED_FIELDS = (
    *(field.name for field in Worksheet._meta.concrete_fields),
    *(f"session__{name}" for name in ("id", "clinic", "scheduled_start", "status")),
    *(f"problem_area__{name}" for name in ("id", "kind", "removed_at")),
    *(f"relationship__{name}" for name in ("id", "name")),
    *(f"assignment__{name}" for name in ("id", "title", "due_date", "status")),
)
# One session's own worksheets: that session is the caller's already.
_OWN_FIELDS = tuple(name for name in _LISTED_FIELDS if not name.startswith("session__"))


def _listed(clinic_id: int, *conditions, **filters):
    return (
        Worksheet.objects.filter(
            *conditions, clinic_id=clinic_id, removed_at__isnull=True, **filters
        )
        .select_related(*_LISTED)
        .only(*_LISTED_FIELDS)
    )


def session_worksheets(session: TherapySession) -> list[Worksheet]:
    """The session's worksheets in the order written, with their problem area, person and
    homework, and a line saying what each was about (``worksheet.summary``): one query."""
    worksheets = list(
        Worksheet.objects.filter(
            clinic_id=session.clinic_id, session_id=session.pk, removed_at__isnull=True
        )
        .select_related(*(name for name in _LISTED if name != "session"))
        .only(*_OWN_FIELDS)
        .order_by("created_at", "pk")
    )
    for worksheet in worksheets:
        worksheet.session = session
        worksheet.summary = worksheet_summary(worksheet)
    return worksheets


@dataclass(frozen=True, slots=True)
class EarlierWorksheets:
    """The worksheets of the sessions before one: the last such session's, and the older."""

    last: list
    older: list

    def __bool__(self) -> bool:
        return bool(self.last)

    def __iter__(self):
        yield from self.last
        yield from self.older


def _earlier(worksheets: list[Worksheet]) -> EarlierWorksheets:
    """``worksheets`` (of earlier sessions, the latest session's first) ready to read."""
    for worksheet in worksheets:
        worksheet.rows = worksheet_rows(worksheet)
    last = [w for w in worksheets if w.session_id == worksheets[0].session_id] if worksheets else []
    return EarlierWorksheets(last=last, older=worksheets[len(last) :])


def _earlier_condition(session: TherapySession) -> Q:
    return Q(course_id=session.course_id, session__scheduled_start__lt=session.scheduled_start)


def earlier_worksheets(session: TherapySession) -> EarlierWorksheets:
    """The course's worksheets of the sessions before ``session``, the latest session's
    first, each with its fields ready to read (``worksheet.rows``): what the next session's
    note shows. One query."""
    return _earlier(
        list(
            _listed(session.clinic_id, _earlier_condition(session)).order_by(
                "-session__scheduled_start", "created_at", "pk"
            )
        )
    )


def note_worksheets(session: TherapySession) -> tuple[list[Worksheet], EarlierWorksheets]:
    """``session_worksheets`` and ``earlier_worksheets`` together, from one query: what the
    session's note form shows."""
    worksheets = list(
        _listed(session.clinic_id, Q(session_id=session.pk) | _earlier_condition(session)).order_by(
            "-session__scheduled_start", "created_at", "pk"
        )
    )
    # The session's own come first: it started after every earlier one.
    own = [w for w in worksheets if w.session_id == session.pk]
    for worksheet in own:
        worksheet.summary = worksheet_summary(worksheet)
    return own, _earlier(worksheets[len(own) :])


def technique_counts(worksheets) -> dict[str, int]:
    """How many worksheets of each kind: the note's techniques they stand for."""
    counts: dict[str, int] = {}
    for worksheet in worksheets:
        counts[worksheet.kind] = counts.get(worksheet.kind, 0) + 1
    return counts


def session_technique_counts(session: TherapySession) -> dict[str, int]:
    """``technique_counts`` of the session's worksheets, counted by the database: one query."""
    return technique_counts(
        Worksheet.objects.filter(
            clinic_id=session.clinic_id, session_id=session.pk, removed_at__isnull=True
        ).only("kind")
    )


def worksheets_words(count: int) -> str:
    return f"{count} worksheet{'s' if count != 1 else ''}"


@dataclass(frozen=True, slots=True)
class OptionRow:
    option: str
    pros: str
    cons: str


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of a worksheet for reading: its text, or for a decision analysis's options
    a row per option."""

    label: str
    text: str = ""
    options: tuple[OptionRow, ...] = ()


def worksheet_rows(worksheet: Worksheet) -> list[FieldRow]:
    """The worksheet's own fields for its kind, in the order worked through."""
    rows = []
    for name in WORKSHEET_FIELDS[worksheet.kind]:
        if name == "options":
            options = tuple(OptionRow(**option) for option in worksheet.options or [])
            rows.append(FieldRow(label="The options", options=options))
            continue
        label = str(Worksheet._meta.get_field(name).verbose_name)
        rows.append(FieldRow(label=label[:1].upper() + label[1:], text=getattr(worksheet, name)))
    return rows


def worksheet_summary(worksheet: Worksheet) -> str:
    """One line saying what the worksheet was about: its incident, decision or scene."""
    return _summary(getattr(worksheet, WORKSHEET_FIELDS[worksheet.kind][0]))


def _summary(text: str) -> str:
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    # Truncator.chars() counts each character to find where to cut: none to find when the
    # text is no longer than the limit (it returns the text normalised, as here).
    return text if len(text) <= _SUMMARY_CHARS else Truncator(text).chars(_SUMMARY_CHARS)


_SUMMARY_CHARS = 140


# --------------------------------------------------------------------------- the course panel


@dataclass(frozen=True, slots=True)
class CourseWorksheetRow:
    url: str
    when: str
    kind: str
    problem_area: str
    person: str
    summary: str
    homework: str


# What the course's list shows of each worksheet: the columns it reads, not the worksheets.
_SUMMARISED = tuple(dict.fromkeys(fields[0] for fields in WORKSHEET_FIELDS.values()))
_COURSE_LIST_COLUMNS = (
    "pk",
    "kind",
    "session__scheduled_start",
    "problem_area__kind",
    "relationship__name",
    "assignment__title",
    *_SUMMARISED,
)


@functools.cache
def _course_list():
    """The course panel's read but for which course: built once per process and only ever
    chained from (``.filter()`` returns a copy), as a generic view's ``queryset`` is."""
    return (
        Worksheet.objects.filter(removed_at__isnull=True)
        .order_by("-session__scheduled_start", "created_at", "pk")
        .values(*_COURSE_LIST_COLUMNS)
    )


def course_worksheets_context(course, transitions=None) -> dict:
    """The course page's worksheets panel (registered with ``phases.panels``): every
    worksheet of the course, the latest session's first, written out here in one query
    whatever their number, of the columns the list shows (the kinds' labels as
    ``get_kind_display()`` gives them)."""
    tz = course.clinic.tz
    worksheets = _course_list().filter(clinic_id=course.clinic_id, course_id=course.pk)
    kinds, areas = dict(WorksheetKind.choices), dict(ProblemAreaKind.choices)
    url_for = pk_reverser("therapy:worksheet")
    rows = [
        CourseWorksheetRow(
            url=url_for(worksheet["pk"]),
            when=day_and_time(worksheet["session__scheduled_start"], tz),
            kind=str(kinds.get(worksheet["kind"], worksheet["kind"])),
            problem_area=str(
                areas.get(worksheet["problem_area__kind"], worksheet["problem_area__kind"])
            ),
            person=worksheet["relationship__name"] or "",
            summary=_summary(worksheet[WORKSHEET_FIELDS[worksheet["kind"]][0]]),
            homework=worksheet["assignment__title"] or "",
        )
        for worksheet in worksheets
    ]
    return {
        "course_worksheet_rows": rows,
        "course_worksheet_rows_html": course_worksheet_rows_html(rows),
        "tz_name": tz.key,
    }


def course_worksheet_rows_html(rows: list[CourseWorksheetRow]) -> SafeString:
    """The panel's table rows written out here, as the template loop they replace wrote them
    (``tests/sessions/test_worksheet_rows_html.py`` compares the two element by element):
    through the template each row cost a lookup and an escape per value. Every value is
    escaped."""
    return mark_safe(  # noqa: S308 - every value below goes through escape()  # nosec B308 B703
        "".join(
            "<tr>"
            f'<td class="text-nowrap">{escape(row.when)}</td>'
            f'<td><a href="{escape(row.url)}">{escape(row.kind)}</a></td>'
            f"<td>{escape(row.problem_area)}"
            f"{f' · {escape(row.person)}' if row.person else ''}</td>"
            f"<td>{escape(row.summary)}"
            + (
                f'<div class="small text-body-secondary">Homework: {escape(row.homework)}</div>'
                if row.homework
                else ""
            )
            + "</td></tr>"
            for row in rows
        )
    )
