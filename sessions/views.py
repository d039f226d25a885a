from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Textarea
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ipt_clinic.accounts.middleware import keeps_typed_text
from ipt_clinic.audit.services import AuditAction, audit_record
from ipt_clinic.editing import StaleEditError
from ipt_clinic.params import record_id
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused
from ipt_clinic.urls_by_pk import pk_reverser
from patients.access import RecordRefused, get_scoped_or_404
from patients.services import record_list_view
from phases.forms import ContractForm
from phases.models import Phase, TreatmentCourse

from . import (
    course_reads,
    note_reads,
    page_html,
    page_reads,
    selectors,
    series,
    services,
    worksheets,
)
from .charts import chart_table_rows, score_chart_svg, wsas_chart_svg
from .course_html import course_session_rows_html
from .display import day_and_time, instrument_label, session_count
from .forms import (
    AddendumForm,
    AssignmentForm,
    AttendanceForm,
    CancelForm,
    MeasureForm,
    NoteForm,
    SeriesForm,
    SlotForm,
)
from .homework import with_entries
from .measures import measure_form_binding, measure_record
from .models import (
    CANCELLED_STATUSES,
    EnteredBy,
    RiskAction,
    RiskLevel,
    SessionNote,
    SessionStatus,
    Technique,
    TherapySession,
)
from .scoring import INSTRUMENTS, unscored_words
from .worksheets_forms import with_worksheet_techniques


def _messages_of(error: ValidationError) -> list[str]:
    return list(error.messages)


def _course_for(request: HttpRequest, course_id) -> TreatmentCourse:
    return get_scoped_or_404(
        TreatmentCourse.objects.select_related("patient", "clinic", "therapist"),
        request.user,
        course_id,
        patient_path="patient",
    )


def _session_for(
    request: HttpRequest, pk, *, with_note: bool = False, narrow: bool = False
) -> TherapySession:
    """The session; for the views that work on its note, with the note in the same query and
    only the columns of the course, patient and clinic that they use; ``narrow``, the same
    columns without the note (a view that uses no more of them)."""
    if with_note:
        queryset = TherapySession.objects.select_related("course__patient", "clinic", "note")
        queryset = queryset.only(*selectors.SESSION_WITH_NOTE_FIELDS)
    elif narrow:
        queryset = TherapySession.objects.select_related("course__patient", "clinic")
        queryset = queryset.only(*selectors.SESSION_FIELDS)
    else:
        queryset = TherapySession.objects.select_related("course__patient", "clinic", "therapist")
    return selectors.share_clinic(
        get_scoped_or_404(queryset, request.user, pk, patient_path="course__patient")
    )


def _session_for_its_therapist(request: HttpRequest, pk, *, with_note=False) -> TherapySession:
    """The session, for the one who writes its note only: the therapist who runs it, or the
    signer named on the note when the course moved to someone else (``SessionNote.signer``).
    Anyone else (the clinic admin included, unless named) gets the same 404 as an outsider."""
    session = _session_for(request, pk, with_note=with_note)
    note = getattr(session, "note", None) if with_note else None
    writer_id = note.signer_id if note is not None and note.signer_id else session.therapist_id
    if writer_id != request.user.pk:
        raise RecordRefused("Not found.", model=TherapySession, record_id=pk)
    return session


def _note_of(session: TherapySession) -> SessionNote:
    try:
        note = session.note  # read with the session where it was asked for (``with_note``)
    except SessionNote.DoesNotExist:
        raise Http404("This session has no note yet.") from None
    note.session = session  # already read, with its course and patient
    return note


def _audit_view(request, *, patient_id, clinic_id, target, summary) -> None:
    audit_record(
        action=AuditAction.VIEW,
        clinic_id=clinic_id,
        actor=request.user,
        patient_id=patient_id,
        target=target,
        summary=summary,
        request=request,
    )


# --------------------------------------------------------------------------- scheduling


@login_required
def week(request: HttpRequest) -> HttpResponse:
    therapist = request.user
    if request.GET.get("therapist") and request.user.is_clinic_admin:
        therapist_id = record_id(request.GET["therapist"])
        therapist = (
            get_user_model()
            .objects.filter(clinic_id=request.user.clinic_id, pk=therapist_id)
            .first()
            if therapist_id is not None
            else None
        )
        if therapist is None:
            raise Http404("No such therapist.")
    if therapist.clinic is None:
        raise Http404("No clinic.")
    tz = therapist.clinic.tz
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = timezone.localdate(timezone=tz)
    start = selectors.week_start_for(start)
    days = selectors.therapist_week(therapist=therapist, start=start, tz=tz)
    record_list_view(
        request=request,
        patient_ids=(session.course.patient_id for day in days for session in day.sessions),
        summary=f"Week of {therapist.display_name} from {start.isoformat()} viewed",
    )
    return render(
        request,
        "sessions/week.html",
        {
            "therapist": therapist,
            "days": days,
            "start": start,
            # None in the calendar's first and last weeks (year 1, year 9999).
            "previous": start - timedelta(days=7) if start > date.min + timedelta(days=6) else None,
            "next": start + timedelta(days=7) if start < date.max - timedelta(days=13) else None,
            "tz_name": tz.key,
            "today": timezone.localdate(timezone=tz),
        },
    )


@login_required
def book(request: HttpRequest, course_id: int) -> HttpResponse:
    """One session; ``?after=<session>`` ("book the next one") fills in the same time one
    interval of the course's frequency later, with that session's length and modality."""
    course = _course_for(request, course_id)
    tz = course.clinic.tz
    form = SlotForm(request.POST or None, tz=tz, initial=_next_slot(request, course, tz))
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_book(
                course=course,
                start=form.cleaned_data["start"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                modality=form.cleaned_data["modality"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            for message in _messages_of(error):
                form.add_error(None, message)
        else:
            messages.success(request, "Session booked.")
            return redirect("therapy:session", pk=session.pk)
    return render(
        request,
        "sessions/slot_form.html",
        {"form": form, "course": course, "title": "Book a session", "tz_name": tz.key},
    )


def _next_slot(request: HttpRequest, course: TreatmentCourse, tz) -> dict:
    default = SlotForm.initial_for(None, tz, course.session_minutes, "in_person")
    after_id = record_id(request.GET.get("after", ""))
    after = (
        TherapySession.objects.filter(
            clinic_id=course.clinic_id, course_id=course.pk, pk=after_id
        ).first()
        if after_id is not None
        else None
    )
    if after is None:
        return default
    start = series.next_start_after(after, course.frequency, tz)
    if start is None or start < timezone.now():
        return {**default, "duration_minutes": after.duration_minutes, "modality": after.modality}
    return SlotForm.initial_for(start, tz, after.duration_minutes, after.modality)


@login_required
def book_series(request: HttpRequest, course_id: int) -> HttpResponse:
    """The contract's sessions booked at once. GET: the series (from the query string, or the
    course's defaults) and a preview of every date with its clashes; POST (from the
    preview): book them all, each clash skipped or moved as chosen on its row."""
    course = _course_for(request, course_id)
    tz = course.clinic.tz
    sessions = selectors.course_sessions(course)
    data = request.POST if request.method == "POST" else request.GET
    if "count" not in data:
        data = series.series_defaults(course, sessions, tz)
    form = SeriesForm(data, tz=tz)
    rows, errors = [], []
    if form.is_valid():
        rows = series.planned_rows(course, form.cleaned_data, tz)
        series.read_choices(rows, request.POST if request.method == "POST" else {})
        if request.method == "POST":
            starts, errors = series.chosen_starts(rows, tz)
            if not errors:
                try:
                    booked = services.session_series_book(
                        course=course,
                        starts=starts,
                        duration_minutes=form.cleaned_data["duration_minutes"],
                        modality=form.cleaned_data["modality"],
                        by=request.user,
                        request=request,
                    )
                except ValidationError as error:
                    errors = _messages_of(error)
                else:
                    skipped = len(rows) - len(booked)
                    messages.success(
                        request,
                        f"{len(booked)} session{'s' if len(booked) != 1 else ''} booked, "
                        f"{day_and_time(booked[0].scheduled_start, tz, weekday=True)} to "
                        f"{day_and_time(booked[-1].scheduled_start, tz, weekday=True)}"
                        + (f" ({skipped} skipped)." if skipped else "."),
                    )
                    return redirect("phases:course", course_id=course.pk)
    return render(
        request,
        "sessions/series_form.html",
        {
            "course": course,
            "form": form,
            "rows": rows,
            "errors": errors,
            "remaining": series.remaining_sessions(
                course, sessions, boosters={s.pk for s in sessions if s.is_booster}
            ),
            "tz_name": tz.key,
        },
    )


@login_required
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    tz = session.clinic.tz
    form = SlotForm(
        request.POST or None,
        tz=tz,
        initial=SlotForm.initial_for(
            session.scheduled_start, tz, session.duration_minutes, session.modality
        ),
        version=session.version,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.session_reschedule(
                session=session,
                start=form.cleaned_data["start"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                modality=form.cleaned_data["modality"],
                by=request.user,
                expected_version=form.expected_version,
                request=request,
            )
        except StaleEditError as error:
            form.show_conflict(error.current)
        except ValidationError as error:
            for message in _messages_of(error):
                form.add_error(None, message)
        else:
            messages.success(request, "Session moved.")
            return redirect("therapy:session", pk=session.pk)
    return render(
        request,
        "sessions/slot_form.html",
        {
            "form": form,
            "course": session.course,
            "session": session,
            "title": "Move the session",
            "tz_name": tz.key,
        },
        status=409 if form.conflict else 200,
    )


@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(
                session=session,
                by=request.user,
                by_whom=form.cleaned_data["by_whom"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            for message in _messages_of(error):
                form.add_error(None, message)
        else:
            messages.success(request, "Session cancelled.")
            return redirect("therapy:session", pk=session.pk)
    return render(request, "sessions/cancel.html", {"form": form, "session": session})


@login_required
@require_POST
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose attended or did not attend.")
    else:
        try:
            services.session_record_attendance(
                session=session,
                by=request.user,
                status=form.cleaned_data["status"],
                request=request,
            )
        except ValidationError as error:
            messages.error(request, " ".join(_messages_of(error)))
        else:
            messages.success(request, "Attendance recorded.")
    return redirect("therapy:session", pk=session.pk)


# --------------------------------------------------------------------------- the session page


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Fixed statements (``page_reads``): the bench's session page target needs them.
    session, note = page_reads.session_page(pk, request.user)
    measures = page_reads.session_questionnaires(session)
    homework = page_reads.session_homework(session)  # with the entries of both lists
    session_worksheets = page_reads.session_worksheets(session)
    # The one who writes and signs the note: its named signer, if the course has moved.
    writer_id = note.signer_id if note and note.signer_id else session.therapist_id
    _audit_view(
        request,
        patient_id=session.course.patient_id,
        clinic_id=session.clinic_id,
        target=session,
        summary="Session page viewed",
    )
    return render(
        request,
        "sessions/session_detail.html",
        {
            "session": session,
            "course": session.course,
            "note": note,
            "note_rows": (
                note_display_rows(
                    note, worksheet_counts=worksheets.technique_counts(session_worksheets)
                )
                if note
                else []
            ),
            "addenda": page_reads.note_addenda(note),
            "dispute_stages": (
                page_reads.disputes_for_note(session) if note and _middle_phase(note) else []
            ),
            "open_flags": measures.open_flags,
            "measure_rows": _measure_rows(measures.listed, session.clinic.tz),
            # Written in Python (``page_html``): the bench's session page target needs it.
            "homework_set_here": page_html.assignment_list(homework.set_here, session.clinic.tz),
            "homework_for_review": page_html.assignment_list(
                homework.for_review, session.clinic.tz
            ),
            "worksheets": session_worksheets,
            "worksheets_refusal": worksheets.session_refusal(session, note),
            # Two radio buttons written in the template, labelled (the form's widgets
            # rendered through Django's form templates cost more than the rest of the form).
            "attendance_choices": AttendanceForm.base_fields["status"].choices,
            "addendum_form": (
                AddendumForm(form_binding=services.ADDENDUM_FORM.bind(note))
                if note is not None and note.signed_at is not None
                else None
            ),
            "risk_actions": RiskAction.choices,
            "is_its_therapist": writer_id == request.user.pk,
            "sign_refusals": (
                _sign_refusals(session, note, request.user)
                if note is not None and writer_id == request.user.pk
                else []
            ),
            "is_past": session.scheduled_start <= timezone.now(),
            "tz_name": session.clinic.time_zone,
            "instruments": [(code, spec.label) for code, spec in INSTRUMENTS.items()],
        },
    )


def _sign_refusals(session: TherapySession, note: SessionNote, user) -> list[str]:
    """Why the note cannot be signed yet, from what the page has read (no query)."""
    if note.signed_at is not None:
        return []
    note.session = session
    return services.note_sign_refusals(note, by=user)


@dataclass(slots=True)
class _MeasureRow:
    taken: str
    instrument: str
    by_patient: bool
    total: int
    severity: str
    unscored: str
    risk_flag: bool
    responded: bool
    responded_by: str
    risk_response: str


def _measure_rows(measures, tz) -> list[_MeasureRow]:
    """The session page's questionnaire table, formatted once here: a session can collect
    dozens of scores, and each row through template filters cost several times as much."""
    return [
        _MeasureRow(
            taken=day_and_time(m.taken_at, tz),
            instrument=instrument_label(m.instrument),
            by_patient=m.entered_by_kind == EnteredBy.PATIENT,
            total=m.total,
            severity=m.severity,
            unscored=unscored_words(m.instrument, m.answers),
            risk_flag=m.risk_flag,
            responded=m.risk_responded_at is not None,
            responded_by=m.risk_responded_by.display_name if m.risk_responded_by else "",
            risk_response=m.risk_response,
        )
        for m in measures
    ]


def note_display_rows(
    note: SessionNote, *, worksheet_counts: dict[str, int] | None = None
) -> list[tuple[str, str]]:
    """The note's fields for its phase as (label, text), for reading. With the session's
    ``worksheet_counts`` (``worksheets.technique_counts``), a technique with worksheets counts
    as used, and says how many."""
    technique_labels = dict(Technique.choices)
    rows = []
    for name in services.note_fields_for(note.phase):
        field = SessionNote._meta.get_field(name)
        label = str(field.verbose_name)
        if name == "focus_problem_area":
            value = str(note.focus_problem_area or "")
        elif name == "techniques":
            label = "techniques used"
            counts = worksheet_counts or {}
            used = [t for t in Technique.values if t in (note.techniques or []) or t in counts]
            value = ", ".join(
                str(technique_labels.get(t, t))
                + (f" ({worksheets.worksheets_words(counts[t])})" if t in counts else "")
                for t in used
            )
        elif name == "risk_level":
            label = "risk check"
            value = note.get_risk_level_display() if note.risk_level else ""
        else:
            value = getattr(note, name)
        rows.append((label[:1].upper() + label[1:], value))
    return rows


@login_required
def course_sessions(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _course_for(request, course_id)
    context = course_sessions_context(course)
    _audit_view(
        request,
        patient_id=course.patient_id,
        clinic_id=course.clinic_id,
        target=course,
        summary="Course sessions and scores viewed",
    )
    return render(request, "sessions/course_sessions.html", {"course": course, **context})


@dataclass(slots=True)
class _CourseSessionRow:
    number: str  # "session x of N" as display.session_count writes it
    url: str
    when: str
    status: str
    phase: str
    note: str
    scores: list  # (questionnaire, total, open risk flag)


_BOOSTER_WORDS = {
    SessionStatus.ATTENDED: "booster session",
    SessionStatus.SCHEDULED: "booster session (booked)",
    SessionStatus.NO_SHOW: "booster session: did not attend",
}


def _course_session_rows(course, sessions, measures_by_session, tz) -> list[_CourseSessionRow]:
    """The course's sessions table, written out once here (a long course has dozens of rows,
    and each through template tags and filters cost several times as much)."""
    status_labels = dict(SessionStatus.choices)
    phase_labels = dict(Phase.choices)
    rows = []
    now = timezone.now()
    session_url = pk_reverser("therapy:session")
    # Boosters of a maintenance course come on top of its contract: no number of it.
    held = course.sessions_attended - sum(
        1 for s in sessions if s.is_booster and s.status == SessionStatus.ATTENDED
    )
    for session in sessions:
        note = "Signed" if session.note_signed_at else "Draft"
        if session.is_booster:
            number = _BOOSTER_WORDS.get(session.status) or (
                "booster session: cancelled"
                if session.status in CANCELLED_STATUSES
                else "booster session: attendance not recorded yet"
            )
        else:
            number = session_count(
                status=session.status,
                start=session.scheduled_start,
                rank=session.status_rank,
                held=held,
                planned=course.planned_sessions,
                now=now,
            )
        rows.append(
            _CourseSessionRow(
                number=number,
                url=session_url(session.pk),
                when=day_and_time(session.scheduled_start, tz, weekday=True),
                status=str(status_labels.get(session.status, session.status)),
                phase=str(phase_labels.get(session.phase, session.phase)) if session.phase else "—",
                note="—" if session.note_pk is None else note,
                scores=[
                    (
                        instrument_label(m.instrument),
                        str(m.total),
                        m.risk_flag and not m.risk_responded_at,
                    )
                    for m in measures_by_session.get(session.pk, ())
                ],
            )
        )
    return rows


def course_sessions_context(course: TreatmentCourse, transitions: list | None = None) -> dict:
    """What ``_course_sessions.html`` and ``_score_chart.html`` need; the course page includes
    both with this context and passes the phase changes it has already read. A fixed number
    of queries whatever the history's length: each session's scores are the chart's, sorted
    out here."""
    # Their fixed statements (``course_reads``): the bench's course page target needs them;
    # ``selectors.course_sessions`` and ``course_chart_data`` are their reference.
    sessions = course_reads.course_sessions(course)
    chart = course_reads.course_chart_data(course, sessions=sessions, transitions=transitions)
    by_session = defaultdict(list)
    for measure in chart.measures:
        by_session[measure.session_id].append(measure)
    tz = course.clinic.tz
    return {
        "course_session_rows_html": course_session_rows_html(
            _course_session_rows(course, sessions, by_session, tz)
        ),
        "remaining": series.remaining_sessions(
            course, sessions, boosters={s.pk for s in sessions if s.is_booster}
        ),
        "score_chart_svg": score_chart_svg(chart, tz=tz),
        "wsas_chart_svg": wsas_chart_svg(chart, tz=tz),
        "score_rows": chart_table_rows(chart, tz),
        "life_events": chart.life_events,
        "outcome": selectors.course_outcome(course),
        # Read with the chart's measures, superseded ones included: a flag raised by answers
        # corrected afterwards stays (selectors.open_risk_flags).
        "open_risk_flags": chart.open_risk_flags,
        "risk_actions": RiskAction.choices,
        "tz_name": tz.key,
    }


# --------------------------------------------------------------------------- notes


@login_required
@require_POST
def note_start(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for_its_therapist(request, pk)
    try:
        services.note_start(session=session, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(_messages_of(error)))
        return redirect("therapy:session", pk=session.pk)
    return redirect("therapy:note", pk=session.pk)


def _note_form(note: SessionNote, data=None, *, worksheet_counts=None) -> NoteForm:
    """The note's form; ``worksheet_counts`` (``worksheets.technique_counts``) when the caller
    has read the session's worksheets already."""
    session = note.session
    middle = _middle_phase(note)
    # Its reads as fixed statements: the page's target (note_reads' docstring).
    goals = note_reads.goals_for_review(session) if middle else []
    areas = note_reads.note_problem_areas(session) if middle else None
    homework = with_entries(note_reads.homework_for_review(session))
    if worksheet_counts is None:
        worksheet_counts = worksheets.session_technique_counts(session)
    return with_worksheet_techniques(
        NoteForm(
            data,
            note=note,
            goals=goals,
            homework=homework,
            disputes=areas.disputes if areas else [],
            problem_areas=areas.live if areas else None,
        ),
        worksheet_counts,
    )


def _middle_phase(note: SessionNote) -> bool:
    return "focus_problem_area" in services.note_fields_for(note.phase)


@keeps_typed_text
@login_required
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for_its_therapist(request, pk, with_note=True)
    note = _note_of(session)
    if note.signed_at is not None:
        if request.method == "POST":
            return _signed_meanwhile(request, session, _note_form(note, request.POST))
        messages.info(request, "This note is signed and locked; add an addendum instead.")
        return redirect("therapy:session", pk=session.pk)
    if request.method == "POST":  # the earlier ones only if the form is shown again
        session_worksheets, earlier_worksheets = worksheets.session_worksheets(session), None
    else:
        session_worksheets, earlier_worksheets = note_reads.note_worksheets(session)
    form = _note_form(
        note,
        request.POST or None,
        worksheet_counts=worksheets.technique_counts(session_worksheets),
    )
    contract_form = _contract_form(note, request.POST or None)
    conflict = None
    contract_valid = contract_form is None or contract_form.is_valid()
    if request.method == "POST" and form.is_valid() and contract_valid:
        try:
            note = services.note_save(
                note=note,
                by=request.user,
                data=form.note_data(),
                expected_version=form.cleaned_data["version"],
                goal_reviews=form.goal_reviews(),
                homework_reviews=form.homework_reviews(),
                contract=contract_form.edited_values() if contract_form else None,
                contract_version=contract_form.expected_version if contract_form else None,
                dispute_stages=form.dispute_stages(),
                request=request,
            )
        except services.StaleNoteError as error:
            conflict = _conflict(form, error.current)
            data = request.POST.copy()
            data["version"] = str(error.current.version)
            form = _note_form(error.current, data)
            form.is_valid()
        except services.NoteLockedError:
            return _signed_meanwhile(request, session, form)
        except StaleEditError as error:
            # The course's contract changed since the note was opened: nothing was saved.
            contract_form.show_conflict(error.current)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Note saved (version {note.version}).")
            return redirect("therapy:session", pk=session.pk)
    else:
        _audit_view(
            request,
            patient_id=session.course.patient_id,
            clinic_id=session.clinic_id,
            target=note,
            summary="Note opened for editing",
        )
    flags = note_reads.note_risk_flags(note, patient_id=session.course.patient_id)
    if request.method != "POST":
        _header_flags(session.course.patient, flags.open)
    return render(
        request,
        "sessions/note_form.html",
        {
            "session": session,
            "note": note,
            # This session's worksheets (its techniques' ticks), and the earlier sessions'.
            "session_worksheets": session_worksheets,
            "earlier_worksheets": (
                earlier_worksheets
                if earlier_worksheets is not None
                else worksheets.earlier_worksheets(session)
            ),
            "worksheets_refusal": worksheets.session_refusal(session, note),
            "form": form,
            "contract_form": contract_form,
            "conflict": conflict,
            "open_flags": flags.open,
            "closed_flags": flags.closed,
            "risk_actions": RiskAction.choices,
            "tz_name": session.clinic.time_zone,
        },
        status=409 if contract_form is not None and contract_form.conflict else 200,
    )


def _header_flags(patient, open_flags: list) -> None:
    """Hand the patient header the patient's open flags the page has just read (all of them,
    oldest first, as the header reads them), by the names ``header_sessions`` reads them back
    from a patient read with its ``patient_annotations``: the header reads them no more."""
    patient.header_open_flags = min(len(open_flags), selectors.HEADER_FLAGS_SHOWN)
    patient.header_first_flag = open_flags[0].pk if open_flags else None


def _contract_form(note: SessionNote, data=None) -> ContractForm | None:
    """The course's sick role and contract on an initial-phase note (``None`` on the others),
    filled in from the course. A note sent without them leaves the course as it is."""
    if note.phase != Phase.INITIAL:
        return None
    if data is not None and not any(name.startswith("course-") for name in data):
        return None
    course = TreatmentCourse.objects.get(pk=note.session.course_id)
    return ContractForm(data, instance=course, prefix="course")


def _signed_meanwhile(request: HttpRequest, session: TherapySession, form: NoteForm):
    """A save refused because the note was signed while it was being edited (in another tab,
    say): the signed note, and what was just typed in a box ready to add as an addendum.
    409: nothing was saved, and nothing typed is lost."""
    note = SessionNote.objects.select_related("signed_by").get(pk=form.note.pk)
    note.session = session
    typed = _typed_text(form, note)
    addendum = "\n\n".join(f"{label}: {text}" for label, text in typed)
    return render(
        request,
        "sessions/note_signed_meanwhile.html",
        {
            "session": session,
            "note": note,
            "note_rows": note_display_rows(note),
            "typed": typed,
            "addendum_form": AddendumForm(
                initial={"text": addendum}, form_binding=services.ADDENDUM_FORM.bind(note)
            ),
        },
        status=409,
    )


def _typed_text(form: NoteForm, note: SessionNote) -> list[tuple[str, str]]:
    """What the editor sent that the stored note does not say, field by field: (label, text)."""
    typed = []
    for name in form.phase_field_names():
        field = form.fields[name]
        value = (form.data.get(name) or "").strip()
        if not value:
            continue
        if isinstance(field.widget, Textarea):
            if value != (getattr(note, name) or "").strip():
                typed.append((str(field.label or name), value))
        elif name == "risk_level" and value != note.risk_level:
            typed.append((str(field.label), str(dict(RiskLevel.choices).get(value, value))))
    return typed


def _add_errors(form: NoteForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _conflict(form: NoteForm, current: SessionNote) -> list[dict]:
    """Field by field: the stored version (theirs) beside the one just submitted (yours)."""
    rows = []
    yours = form.cleaned_data
    for name in form.phase_field_names():
        label = form.fields[name].label or name
        if name == "focus_problem_area":
            theirs_value = str(current.focus_problem_area or "")
            yours_value = str(yours.get(name) or "")
        elif name == "techniques":
            theirs_value = ", ".join(current.techniques or [])
            yours_value = ", ".join(yours.get(name) or [])
        elif name == "risk_level":
            theirs_value = current.get_risk_level_display() if current.risk_level else ""
            yours_value = dict(form.fields[name].choices).get(yours.get(name), "")
            yours_value = yours_value if yours.get(name) else ""
        else:
            theirs_value = getattr(current, name) or ""
            yours_value = yours.get(name) or ""
        rows.append(
            {
                "label": label,
                "theirs": theirs_value,
                "yours": yours_value,
                "differs": str(theirs_value) != str(yours_value),
            }
        )
    return rows


@login_required
@require_POST
def note_autosave(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft autosave (static/js/note.js): saves without the risk check and answers with the
    new version. A refusal has its status code: 409 when the note was signed or saved by
    someone else meanwhile (trying again cannot help), 422 for a value that needs attention."""
    session = _session_for_its_therapist(request, pk, with_note=True)
    note = _note_of(session)
    form = _note_form(note, request.POST)
    status, version, code = "", note.version, 200
    if note.signed_at is not None:
        status = (
            "Not saved: this note has been signed and locked. Press Save to keep your text "
            "as an addendum."
        )
        code = 409
    elif not form.is_valid():
        status, code = "Not saved: some fields need attention.", 422
    else:
        try:
            note = services.note_save(
                note=note,
                by=request.user,
                data=form.note_data(),
                expected_version=form.cleaned_data["version"],
                draft=True,
                request=request,
            )
        except services.NoteLockedError:
            version = form.cleaned_data["version"]
            status = (
                "Not saved: this note has been signed and locked. Press Save to keep your "
                "text as an addendum."
            )
            code = 409
        except services.StaleNoteError as error:
            version = form.cleaned_data["version"]
            status = (
                f"Not saved: the note was changed since you opened it (now version "
                f"{error.current.version}). Press Save to compare both versions."
            )
            code = 409
        except ValidationError as error:
            version = form.cleaned_data["version"]
            status, code = "Not saved: " + " ".join(error.messages), 422
        else:
            version = note.version
            status = f"Draft saved at {timezone.localtime(timezone.now(), session.clinic.tz):%H:%M} (version {version})."
    return render(
        request,
        "sessions/_autosave_status.html",
        {"status": status, "version": version},
        status=code,
    )


@login_required
def note_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what signing will lock, and the button that signs (or why the note cannot be
    signed yet). POST, from that page: sign and lock."""
    session = _session_for_its_therapist(request, pk, with_note=True)
    note = _note_of(session)
    if request.method != "POST":
        if note.signed_at is not None:
            messages.info(request, "This note is signed and locked; add an addendum instead.")
            return redirect("therapy:session", pk=session.pk)
        return render(
            request,
            "sessions/note_sign_confirm.html",
            {
                "session": session,
                "note": note,
                "note_rows": note_display_rows(note),
                "refusals": services.note_sign_refusals(note, by=request.user),
                "goal_reviews": selectors.note_goal_reviews(session),
                "homework_reviewed": selectors.note_homework_reviewed(session),
                "disputes": selectors.disputes_for_note(session) if _middle_phase(note) else [],
                "tz_name": session.clinic.time_zone,
            },
        )
    try:
        services.note_sign(note=note, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(_messages_of(error)))
    else:
        messages.success(request, "Note signed and locked.")
    return redirect("therapy:session", pk=session.pk)


@login_required
@require_POST
def note_addendum(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk, with_note=True)
    note = _note_of(session)
    form = AddendumForm(request.POST, form_binding=services.ADDENDUM_FORM.bind(note))
    if not form.is_valid():
        if form.has_error("text"):
            messages.error(request, "Write the addendum's text.")
            return redirect("therapy:session", pk=session.pk)
        # The form's key was missing: the text comes back on a page of its own.
        return render(request, "sessions/addendum_form.html", {"session": session, "form": form})
    try:
        services.note_add_addendum(
            note=note,
            by=request.user,
            text=form.cleaned_data["text"],
            form_key=form.cleaned_data["form_key"],
            request=request,
        )
    except AlreadySaved as saved:
        messages.info(request, saved.message)
    except SubmissionRefused as error:
        form.refuse(error)
        return render(request, "sessions/addendum_form.html", {"session": session, "form": form})
    except ValidationError as error:
        messages.error(request, " ".join(_messages_of(error)))
    else:
        messages.success(request, "Addendum added.")
    return redirect("therapy:session", pk=session.pk)


@login_required
def note_history(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk, with_note=True)
    note = _note_of(session)
    _audit_view(
        request,
        patient_id=session.course.patient_id,
        clinic_id=session.clinic_id,
        target=note,
        summary="Note history viewed",
    )
    revisions = list(selectors.note_history(note))
    describe = _revision_describer(session)
    for revision in revisions:
        revision.rows = [
            describe(name, value)
            for name, value in revision.content.items()
            if value not in ("", None, [], {})
        ]
    return render(
        request,
        "sessions/note_history.html",
        {"session": session, "note": note, "revisions": revisions},
    )


def _revision_describer(session: TherapySession):
    """Turn a revision's stored ids and codes into words (three queries for any history)."""
    from phases.models import Goal, GoalStatus, ProblemArea

    from .models import Assignment, AssignmentStatus, RiskLevel

    labels = {f.name: str(f.verbose_name) for f in SessionNote._meta.fields}
    labels |= {"goal_reviews": "goals reviewed", "homework_reviews": "homework reviewed"}
    course_rows = {"clinic_id": session.clinic_id, "course_id": session.course_id}
    areas = {a.pk: str(a) for a in ProblemArea.objects.filter(**course_rows)}
    goals = {g.pk: g.text for g in Goal.objects.filter(**course_rows)}
    titles = dict(Assignment.objects.filter(**course_rows).values_list("pk", "title"))
    techniques, risks = dict(Technique.choices), dict(RiskLevel.choices)
    goal_statuses, homework_statuses = dict(GoalStatus.choices), dict(AssignmentStatus.choices)

    def describe(name: str, value) -> tuple[str, str]:
        if name == "focus_problem_area":
            text = areas.get(value, "")
        elif name == "techniques":
            text = ", ".join(str(techniques.get(t, t)) for t in value)
        elif name == "risk_level":
            text = str(risks.get(value, value))
        elif name == "goal_reviews":
            text = "; ".join(
                f"{goals.get(r['goal'], '?')}: {r['progress']}/10, "
                f"{goal_statuses.get(r['status'], r['status'])}"
                for r in value
            )
        elif name == "homework_reviews":
            text = "; ".join(
                f"{titles.get(r['assignment'], '?')}: "
                f"{homework_statuses.get(r['status'], r['status'])}"
                for r in value
            )
        else:
            text = str(value)
        label = labels.get(name, name)
        return label[:1].upper() + label[1:], text

    return describe


# --------------------------------------------------------------------------- measures


@login_required
def measure_new(request: HttpRequest, pk: int, instrument: str) -> HttpResponse:
    session = _session_for(request, pk, narrow=True)
    if instrument not in INSTRUMENTS:
        raise Http404("No such questionnaire.")
    if request.method != "POST" and session.scheduled_start > timezone.now():
        messages.error(
            request,
            "This session has not started yet: questionnaires are entered once it has "
            "started (the patient can fill one in beforehand through the portal).",
        )
        return redirect("therapy:session", pk=session.pk)
    form = MeasureForm(
        request.POST or None,
        instrument=instrument,
        form_binding=measure_form_binding(instrument, session=session),
    )
    if request.method == "POST" and form.is_valid():
        try:
            measure = measure_record(
                course=session.course,
                instrument=instrument,
                answers=form.answers(),
                entered_by=request.user,
                session=session,
                form_key=form.cleaned_data["form_key"],
                request=request,
            )
        except AlreadySaved as saved:
            messages.info(request, saved.message)
            return redirect("therapy:session", pk=session.pk)
        except SubmissionRefused as error:
            form.refuse(error)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            label = measure.get_instrument_display()
            if measure.corrects_id is not None:
                text = (
                    f"{label} corrected: now {measure.total} ({measure.severity}). The answers "
                    "sent first are kept in the record, marked as corrected."
                )
            else:
                text = f"{label} recorded: {measure.total} ({measure.severity})."
            unscored = unscored_words(measure.instrument, measure.answers)
            if unscored:
                text += f" {unscored.capitalize()}."
            if measure.risk_flag:
                messages.warning(
                    request, text + " Question 9 was answered above 0: record your response."
                )
            else:
                messages.success(request, text)
            return redirect("therapy:session", pk=session.pk)
    return render(
        request,
        "sessions/measure_form.html",
        {"session": session, "form": form, "spec": form.spec},
    )


# --------------------------------------------------------------------------- homework


@login_required
def assignment_new(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    form = AssignmentForm(
        request.POST or None,
        course=session.course,
        form_binding=services.ASSIGNMENT_FORM.bind(session),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_set(
                session=session, by=request.user, request=request, **form.cleaned_data
            )
        except AlreadySaved as saved:
            messages.info(request, saved.message)
            return redirect("therapy:session", pk=session.pk)
        except SubmissionRefused as error:
            form.refuse(error)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Homework set.")
            return redirect("therapy:session", pk=session.pk)
    return render(request, "sessions/assignment_form.html", {"session": session, "form": form})
