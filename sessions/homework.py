"""The patient's entries on homework (``HomeworkEntry``): the questions of each kind, the rule
that they can be added to and changed until the therapist reviews the homework, and the reads
that lay them out for the note, the session page and the course page.

The patient writes through the portal (``homework_entry_add`` with the form's one-time key,
``homework_entry_edit`` with the entry's version); the messages a patient may read are
translatable. Reviewing the assignment in a session note (``services.assignment_review``, which
sets ``Assignment.reviewed_in``) is what locks its entries: there is no lock of their own.
"""

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.editing import save_versioned
from ipt_clinic.submissions.services import (
    FormPurpose,
    submission_claim,
    submission_done,
    submission_repeat_answer,
)
from ipt_clinic.urls_by_pk import pk_reverser
from phases.models import TreatmentCourse

from . import course_reads
from .display import day_month_year
from .models import Assignment, AssignmentKind, AssignmentStatus, HomeworkEntry

ENTRY_FORM = FormPurpose("therapy.homework_entry")

# The questions of each kind, in the order they are asked and shown.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    AssignmentKind.COMMUNICATION: ("said", "response", "feeling", "next_time"),
    AssignmentKind.LOG: ("entry_date", "mood", "people", "happened"),
    AssignmentKind.ROLE_PLAY: ("rehearsed", "how_it_went", "feeling"),
    AssignmentKind.ACTIVITY: ("did", "feeling", "how_it_went"),
    AssignmentKind.READING: ("stayed_with_me",),
}
# Without these an entry says nothing; the others may stay empty.
KIND_REQUIRED: dict[str, tuple[str, ...]] = {
    AssignmentKind.COMMUNICATION: ("said", "feeling"),
    AssignmentKind.LOG: ("entry_date", "mood"),
    AssignmentKind.ROLE_PLAY: ("rehearsed", "feeling"),
    AssignmentKind.ACTIVITY: ("did", "feeling"),
    AssignmentKind.READING: ("stayed_with_me",),
}
TEXT_FIELDS = (
    "people",
    "happened",
    "said",
    "response",
    "next_time",
    "rehearsed",
    "did",
    "how_it_went",
    "stayed_with_me",
)


def locked_message() -> str:
    return _(
        "Your therapist has already gone through this homework with you, so it can no longer "
        "be changed. You can still read everything you wrote."
    )


def day_taken_message(day: date) -> str:
    return _(
        "You already have an entry for %(day)s. Change that entry instead, or choose another day."
    ) % {"day": formats.date_format(day, pgettext("a date", "j F Y"))}


def entries_editable(assignment: Assignment) -> bool:
    """The patient may add and change entries: not withdrawn, not yet reviewed in a session."""
    return assignment.status != AssignmentStatus.WITHDRAWN and assignment.reviewed_in_id is None


def entry_form_binding(assignment: Assignment):
    """What the add-an-entry form's one-time keys are bound to: the assignment."""
    return ENTRY_FORM.bind(assignment)


def _answers(kind: str, values: dict) -> dict:
    """The kind's fields of ``values`` (text stripped), nothing else."""
    answers = {}
    for name in KIND_FIELDS[kind]:
        value = values.get(name)
        if name in TEXT_FIELDS:
            value = (value or "").strip()
        answers[name] = value
    return answers


def _check_day(assignment: Assignment, day: date | None, *, entry_pk: int | None) -> None:
    if day is None:
        return
    taken = HomeworkEntry.objects.filter(
        clinic_id=assignment.clinic_id, assignment_id=assignment.pk, entry_date=day
    )
    if entry_pk is not None:
        taken = taken.exclude(pk=entry_pk)
    if taken.exists():
        raise ValidationError({"entry_date": day_taken_message(day)}, code="day_taken")


def _locked_assignment(assignment: Assignment) -> Assignment:
    assignment = Assignment.objects.select_for_update().get(
        clinic_id=assignment.clinic_id, pk=assignment.pk
    )
    if not entries_editable(assignment):
        raise ValidationError(locked_message(), code="locked")
    return assignment


def _patient_id(assignment: Assignment) -> int:
    return TreatmentCourse.objects.values_list("patient_id", flat=True).get(
        clinic_id=assignment.clinic_id, pk=assignment.course_id
    )


@transaction.atomic
def homework_entry_add(
    *, assignment: Assignment, values: dict, form_key: str | None = None, request=None
) -> HomeworkEntry:
    """The patient adds an entry to ``assignment`` with the answers of its kind.

    Refused (``ValidationError``, nothing saved) once the homework is reviewed or withdrawn,
    and for a second log entry on a day that has one. ``form_key`` follows the rule of
    ``ipt_clinic.submissions``: the same entry sent twice gives back the first
    (``AlreadySaved``), other answers under a used key are refused."""
    assignment = _locked_assignment(assignment)
    answers = _answers(assignment.kind, values)
    claim = submission_claim(binding=entry_form_binding(assignment), key=form_key, content=answers)
    if claim.repeated:
        submission_repeat_answer(
            claim,
            HomeworkEntry,
            describe=lambda entry: (
                _("your entry of %(day)s")
                % {
                    "day": formats.date_format(
                        timezone.localtime(entry.created_at), pgettext("a day", "j F")
                    )
                }
            ),
        )
    _check_day(assignment, answers.get("entry_date"), entry_pk=None)
    entry = HomeworkEntry(
        clinic_id=assignment.clinic_id, assignment=assignment, kind=assignment.kind, **answers
    )
    entry.full_clean()
    entry.save()
    submission_done(claim, entry)
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=assignment.clinic_id,
        actor_kind="patient",
        patient_id=_patient_id(assignment),
        target=entry,
        summary=f"Homework entry added in the portal: {assignment.title}",
        request=request,
    )
    return entry


@transaction.atomic
def homework_entry_edit(
    *, entry: HomeworkEntry, values: dict, expected_version: int | None, request=None
) -> HomeworkEntry:
    """The patient changes one of their entries. Refused as ``homework_entry_add`` is, and with
    ``StaleEditError`` when the entry changed since the form was opened (another window)."""
    assignment = _locked_assignment(entry.assignment)
    entry = HomeworkEntry.objects.get(clinic_id=entry.clinic_id, pk=entry.pk)
    answers = _answers(entry.kind, values)
    before = {name: getattr(entry, name) for name in answers}
    _check_day(assignment, answers.get("entry_date"), entry_pk=entry.pk)
    for name, value in answers.items():
        setattr(entry, name, value)
    entry.full_clean()
    changed = [name for name in answers if before[name] != answers[name]]
    save_versioned(entry, expected_version=expected_version, fields=answers.keys())
    audit_record(
        action=AuditAction.PORTAL_ACTION,
        clinic_id=entry.clinic_id,
        actor_kind="patient",
        patient_id=_patient_id(assignment),
        target=entry,
        summary=f"Homework entry changed in the portal: {assignment.title}",
        changes={name: [str(before[name]), str(answers[name])] for name in changed},
        request=request,
    )
    return entry


# --------------------------------------------------------------------------- reads


def assignment_entries(assignment: Assignment) -> list[HomeworkEntry]:
    """The entries of one assignment, by day (a log) or as written, oldest first."""
    return list(
        HomeworkEntry.objects.filter(
            clinic_id=assignment.clinic_id, assignment_id=assignment.pk
        ).order_by("entry_date", "created_at", "pk")
    )


def with_entries(assignments: Iterable[Assignment]) -> list[Assignment]:
    """``assignments`` with their entries as ``entry_list`` (oldest first, a log by day), read
    in one query whatever their number (none when there are no assignments)."""
    assignments = list(assignments)
    by_assignment: dict[int, list[HomeworkEntry]] = defaultdict(list)
    if assignments:
        entries = HomeworkEntry.objects.filter(
            clinic_id=assignments[0].clinic_id,
            assignment_id__in=[assignment.pk for assignment in assignments],
        ).order_by("entry_date", "created_at", "pk")
        for entry in entries:
            by_assignment[entry.assignment_id].append(entry)
    for assignment in assignments:
        assignment.entry_list = by_assignment[assignment.pk]
    return assignments


_STATUS_BADGES = {AssignmentStatus.DONE: "success", AssignmentStatus.NOT_DONE: "secondary"}
# The panel reads of the sessions an assignment was set and reviewed in only their start.
_PANEL_FIELDS = (
    *(field.name for field in Assignment._meta.concrete_fields),
    "session__scheduled_start",
    "reviewed_in__scheduled_start",
)


@functools.cache
def _panel_assignments():
    """The panel's read but for which course: built once per process and only ever chained
    from (``.filter()`` returns a copy), as a generic view's ``queryset`` is."""
    return (
        Assignment.objects.select_related("reviewed_in", "session")
        .only(*_PANEL_FIELDS)
        .order_by("-due_date", "-pk")
    )


def course_homework(course) -> list[Assignment]:
    """Every piece of homework of the course, the latest due first, with the sessions it was
    set and reviewed in (their start only). The ORM's reading: the page reads it through
    ``course_reads.course_homework``, which a test holds to this one."""
    return list(_panel_assignments().filter(clinic_id=course.clinic_id, course_id=course.pk))


def course_homework_context(course, transitions=None) -> dict:
    """The course page's homework panel (registered with ``phases.panels``): every piece of
    homework of the course, the latest first, with the patient's entries laid out by kind, in
    two queries whatever their number (fixed statements: ``course_reads``, the bench's course
    page target needs them; ``course_homework`` and ``with_entries`` are their reference)."""
    assignments = course_reads.course_homework(course)
    tz = course.clinic.tz
    session_url = pk_reverser("therapy:session")
    kinds, statuses = dict(AssignmentKind.choices), dict(AssignmentStatus.choices)
    for assignment in assignments:
        # Written here as the template's filters would write them (sessions.display).
        assignment.kind_label = str(kinds.get(assignment.kind, assignment.kind))
        assignment.status_label = str(statuses.get(assignment.status, assignment.status))
        assignment.status_badge = _STATUS_BADGES.get(assignment.status, "info")
        assignment.due_on = day_month_year(assignment.due_date)
        assignment.session_url = session_url(assignment.session_id) if assignment.session_id else ""
        assignment.set_on = (
            day_month_year(timezone.localtime(assignment.session.scheduled_start, tz).date())
            if assignment.session_id
            else ""
        )
        assignment.reviewed_on = (
            day_month_year(timezone.localtime(assignment.reviewed_in.scheduled_start, tz).date())
            if assignment.reviewed_in_id
            else ""
        )
    return {"course_homework": assignments}
