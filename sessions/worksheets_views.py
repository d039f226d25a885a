"""The worksheet pages (``sessions.worksheets``): written from a session, read from the course."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.editing import StaleEditError
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused
from patients.access import RecordRefused, get_scoped_or_404

from . import worksheets
from .models import SessionNote, TherapySession, Worksheet, WorksheetKind
from .worksheets_forms import WorksheetForm

# In the address a kind is written with hyphens: /worksheets/new/role-play/.
KINDS_BY_SLUG = {kind.replace("_", "-"): kind for kind in WorksheetKind.values}


def _writer_id(session: TherapySession, note: SessionNote | None) -> int:
    """Who writes the session's worksheets: the one who writes its note."""
    return note.signer_id if note is not None and note.signer_id else session.therapist_id


def _note_of(session: TherapySession) -> SessionNote | None:
    return (
        SessionNote.objects.filter(session_id=session.pk)
        .only("session", "signer", "signed_at", "focus_problem_area")
        .first()
    )


def _session_to_write(request: HttpRequest, pk) -> tuple[TherapySession, SessionNote | None]:
    """The session and its note, for the one who writes its note only (the clinic admin
    included gets the same 404 as an outsider, as for the note)."""
    session = get_scoped_or_404(
        TherapySession.objects.select_related("course__patient", "clinic"),
        request.user,
        pk,
        patient_path="course__patient",
    )
    note = _note_of(session)
    if _writer_id(session, note) != request.user.pk:
        raise RecordRefused("Not found.", model=TherapySession, record_id=pk)
    return session, note


def _worksheet_for(request: HttpRequest, pk, *, to_write: bool = False) -> Worksheet:
    """The one access helper of a worksheet: a removed one is gone for everybody; with
    ``to_write`` only the one who writes the session's note gets it. Anything else: 404."""
    worksheet = get_scoped_or_404(
        Worksheet.objects.select_related(
            "course__patient",
            "session",
            "clinic",
            "problem_area",
            "relationship",
            "assignment",
            "created_by",
        ),
        request.user,
        pk,
        patient_path="course__patient",
    )
    if worksheet.removed_at is not None:
        raise RecordRefused("Not found.", model=Worksheet, record_id=pk)
    worksheet.note = _note_of(worksheet.session)
    if to_write and _writer_id(worksheet.session, worksheet.note) != request.user.pk:
        raise RecordRefused("Not found.", model=Worksheet, record_id=pk)
    return worksheet


def _back(request: HttpRequest, session: TherapySession):
    """Back to the note when the form was opened from it (``?back=note``), else the session."""
    if (request.GET.get("back") or request.POST.get("back")) == "note":
        return redirect("therapy:note", pk=session.pk)
    return redirect("therapy:session", pk=session.pk)


def _audit_view(request: HttpRequest, worksheet: Worksheet, summary: str) -> None:
    audit_record(
        action=AuditAction.VIEW,
        clinic_id=worksheet.clinic_id,
        actor=request.user,
        patient_id=worksheet.course.patient_id,
        target=worksheet,
        summary=summary,
        request=request,
    )


@login_required
def worksheet_new(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    session, note = _session_to_write(request, pk)
    kind = KINDS_BY_SLUG.get(kind)
    if kind is None:
        raise Http404("No such worksheet.")
    refusal = worksheets.session_refusal(session, note)
    if refusal and request.method != "POST":
        messages.error(request, refusal)
        return redirect("therapy:session", pk=session.pk)
    course = session.course
    focus = note.focus_problem_area_id if note is not None else None
    form = WorksheetForm(
        request.POST or None,
        kind=kind,
        course=course,
        form_binding=worksheets.WORKSHEET_FORM.bind(session),
        initial={"problem_area": focus or worksheets.primary_problem_area_id(course)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            worksheet = worksheets.worksheet_create(
                session=session,
                by=request.user,
                kind=kind,
                form_key=form.cleaned_data["form_key"],
                request=request,
                **form.content(),
            )
        except AlreadySaved as saved:
            messages.info(request, saved.message)
            return _back(request, session)
        except SubmissionRefused as error:
            form.refuse(error)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{worksheet.get_kind_display()} saved.")
            return _back(request, session)
    return render(
        request,
        "sessions/worksheet_form.html",
        {
            "session": session,
            "course": course,
            "form": form,
            "kind_label": WorksheetKind(kind).label,
            "back": request.GET.get("back") or request.POST.get("back") or "",
        },
    )


@login_required
def worksheet_detail(request: HttpRequest, worksheet_pk: int) -> HttpResponse:
    worksheet = _worksheet_for(request, worksheet_pk)
    session = worksheet.session
    _audit_view(request, worksheet, "Worksheet viewed")
    writes = _writer_id(session, worksheet.note) == request.user.pk
    return render(
        request,
        "sessions/worksheet_detail.html",
        {
            "worksheet": worksheet,
            "session": session,
            "course": worksheet.course,
            "rows": worksheets.worksheet_rows(worksheet),
            "writes": writes,
            "refusal": worksheets.session_refusal(session, worksheet.note) if writes else "",
            "tz_name": worksheet.clinic.time_zone,
        },
    )


@login_required
def worksheet_edit(request: HttpRequest, worksheet_pk: int) -> HttpResponse:
    worksheet = _worksheet_for(request, worksheet_pk, to_write=True)
    session = worksheet.session
    refusal = worksheets.session_refusal(session, worksheet.note)
    if refusal and request.method != "POST":
        messages.error(request, refusal)
        return redirect("therapy:worksheet", worksheet_pk=worksheet.pk)
    form = WorksheetForm(
        request.POST or None, kind=worksheet.kind, course=worksheet.course, worksheet=worksheet
    )
    if request.method == "POST" and form.is_valid():
        try:
            worksheets.worksheet_update(
                worksheet=worksheet,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.content(),
            )
        except StaleEditError as error:
            form.show_conflict(error.current)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{worksheet.get_kind_display()} saved.")
            return _back(request, session)
    elif request.method != "POST":
        _audit_view(request, worksheet, "Worksheet opened for editing")
    return render(
        request,
        "sessions/worksheet_form.html",
        {
            "session": session,
            "course": worksheet.course,
            "worksheet": worksheet,
            "form": form,
            "kind_label": worksheet.get_kind_display(),
            "back": request.GET.get("back") or request.POST.get("back") or "",
        },
        status=409 if form.conflict else 200,
    )


@login_required
@require_POST
def worksheet_remove(request: HttpRequest, worksheet_pk: int) -> HttpResponse:
    worksheet = _worksheet_for(request, worksheet_pk, to_write=True)
    try:
        worksheets.worksheet_remove(worksheet=worksheet, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("therapy:worksheet", worksheet_pk=worksheet.pk)
    messages.success(request, f"{worksheet.get_kind_display()} removed.")
    return redirect("therapy:session", pk=worksheet.session_id)


@login_required
@require_POST
def worksheet_homework(request: HttpRequest, worksheet_pk: int) -> HttpResponse:
    """One click: the role play's follow-on becomes homework (``worksheet_set_homework``)."""
    worksheet = _worksheet_for(request, worksheet_pk, to_write=True)
    try:
        assignment = worksheets.worksheet_set_homework(
            worksheet=worksheet, by=request.user, request=request
        )
    except AlreadySaved as saved:
        messages.info(request, f"Already set: “{saved.record.title}” is this role play's homework.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("therapy:worksheet", worksheet_pk=worksheet.pk)
    else:
        messages.success(
            request,
            f"Homework set: “{assignment.title}”, due "
            f"{assignment.due_date.day} {assignment.due_date:%b %Y}.",
        )
    return _back(request, worksheet.session)
