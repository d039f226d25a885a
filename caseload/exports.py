"""CSV exports of the caseload table and of the outcomes. Each export is audited (EXPORT).

No free text written by clinicians (notes, formulation, sick-role note, risk responses) is
ever a column here: the files carry identifiers, phases, counts and scores only. Every cell
that a spreadsheet could read as a formula is prefixed with a quote.
"""

import csv
from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from ipt_clinic.audit.services import AuditAction, audit_record

from .admin_access import clinic_admin_required
from .dashboard import filtered_courses, outcomes_from
from .outcomes import OUTCOME_COLUMNS
from .recovery import EXPORT_COLUMNS, recovery_for_clinic

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COURSE_COLUMNS = [
    "record_number",
    "first_name",
    "last_name",
    "therapist",
    "status",
    "phase",
    "start_date",
    "planned_sessions",
    "attended_sessions",
    "problem_areas",
    "baseline_phq9",
    "latest_phq9",
    "latest_phq9_at",
    "baseline_wsas",
    "latest_wsas",
    "open_risk_flag",
]


def safe_cell(value) -> str:
    """The value as a CSV cell that no spreadsheet will evaluate."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def _course_row(course) -> list:
    return [
        course.patient.record_number,
        course.patient.first_name,
        course.patient.last_name,
        course.therapist.display_name,
        course.get_status_display(),
        course.get_phase_display(),
        course.start_date.isoformat(),
        course.planned_sessions,
        course.attended,
        "; ".join(area.get_kind_display() for area in course.current_problem_areas),
        course.baseline_phq9,
        course.latest_phq9,
        course.latest_phq9_at.isoformat() if course.latest_phq9_at else "",
        course.baseline_wsas,
        course.latest_wsas,
        "yes" if course.has_open_risk else "no",
    ]


def _attachment(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _valid_filters(request: HttpRequest, form) -> dict:
    """The filters as typed, for the audit: the form's fields that it accepted. Anything
    else in the address stays out (a NUL byte, which PostgreSQL's jsonb refuses, included);
    with any field refused the export is empty, as the table is."""
    return {
        key: value
        for key, value in request.GET.items()
        if key in form.fields and key not in form.errors
    }


@clinic_admin_required
def export_courses(request: HttpRequest) -> HttpResponse:
    form, _filters, matching = filtered_courses(request)
    user = request.user
    audit_record(
        action=AuditAction.EXPORT,
        clinic_id=user.clinic_id,
        actor=user,
        summary=f"Caseload CSV exported ({matching.count()} courses)",
        changes={"filters": _valid_filters(request, form)},
        request=request,
    )
    stamp = timezone.now().astimezone(user.clinic.tz).strftime("%Y%m%d-%H%M")
    rows = (_course_row(course) for course in matching.iterator(chunk_size=500))
    return _attachment(_csv_lines(COURSE_COLUMNS, rows), f"caseload-{stamp}.csv")


@clinic_admin_required
def export_outcomes(request: HttpRequest) -> HttpResponse:
    form, report = outcomes_from(request)
    if report is None:
        return HttpResponse("The period is not valid.", status=400, content_type="text/plain")
    user = request.user
    audit_record(
        action=AuditAction.EXPORT,
        clinic_id=user.clinic_id,
        actor=user,
        summary=f"Outcomes CSV exported ({report.date_from} to {report.date_to})",
        changes={"date_from": str(report.date_from), "date_to": str(report.date_to)},
        request=request,
    )
    keys = [key for key, _ in OUTCOME_COLUMNS]
    rows = []
    for breakdown, groups in [
        ("clinic", [report.clinic]),
        ("therapist", report.by_therapist),
        ("problem_area", report.by_problem_area),
    ]:
        for group in groups:
            shown = group.as_row()
            rows.append([breakdown, *[shown[key] for key in keys]])
    filename = f"outcomes-{report.date_from}-{report.date_to}.csv"
    return _attachment(_csv_lines(["breakdown", *keys], rows), filename)


@clinic_admin_required
def export_recovery(request: HttpRequest) -> HttpResponse:
    """Outcomes as services report them, with the small-cell rule: a count of fewer than five
    patients is "<5" and its rate is hidden (``RecoveryGroup.export_row``)."""
    _form, report = outcomes_from(request)
    if report is None:
        return HttpResponse("The period is not valid.", status=400, content_type="text/plain")
    user = request.user
    clinic = user.clinic
    recovery = recovery_for_clinic(clinic.pk, clinic.tz, report.date_from, report.date_to)
    audit_record(
        action=AuditAction.EXPORT,
        clinic_id=user.clinic_id,
        actor=user,
        summary=f"Recovery outcomes CSV exported ({report.date_from} to {report.date_to})",
        changes={"date_from": str(report.date_from), "date_to": str(report.date_to)},
        request=request,
    )
    rows = []
    for breakdown, groups in [
        ("clinic", [recovery.clinic]),
        ("therapist", recovery.by_therapist),
        ("primary_problem_area", recovery.by_problem_area),
    ]:
        for group in groups:
            shown = group.export_row()
            rows.append([breakdown, *[shown[key] for key in EXPORT_COLUMNS]])
    filename = f"recovery-{report.date_from}-{report.date_to}.csv"
    return _attachment(_csv_lines(["breakdown", *EXPORT_COLUMNS], rows), filename)
