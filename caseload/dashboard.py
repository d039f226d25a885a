"""The clinic admin's caseload review: the dashboard, its drill-downs, the filtered caseload
table and the outcomes page. Clinic admins only; everyone else gets 404."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from patients.services import record_list_view

from .admin_access import clinic_admin_required
from .charts import bar_chart
from .dashboard_selectors import (
    METRICS,
    METRICS_BY_KEY,
    PHQ9_OVERDUE_RULE,
    SORT_KEYS,
    CourseFilters,
    Window,
    courses_for_review,
    dashboard_for_clinic,
    sort_rows,
)
from .outcomes import OUTCOME_COLUMNS, OUTCOME_RULES, Outcomes, outcomes_for_clinic
from .review_forms import CourseFilterForm, PeriodForm

PAGE_SIZE = 50


@clinic_admin_required
def dashboard(request: HttpRequest) -> HttpResponse:
    clinic = request.user.clinic
    board = dashboard_for_clinic(clinic.pk, clinic.tz)
    sort = request.GET.get("sort", "therapist")
    sort = sort if sort in SORT_KEYS else "therapist"
    descending = request.GET.get("dir") == "desc"
    rows = sort_rows(board.rows, sort, descending)
    headers = [
        {
            "key": key,
            "label": label,
            "help": help_text,
            "url": "?" + urlencode({"sort": key, "dir": _next_dir(key, sort, descending)}),
            "aria_sort": ("descending" if descending else "ascending") if key == sort else "",
        }
        for key, label, help_text in [
            ("therapist", "Therapist", ""),
            *[(m.key, m.label, m.help) for m in METRICS],
        ]
    ]
    table_body, table_footer = _table_html(rows, board.totals)
    phase_chart = bar_chart(
        chart_id="phase-chart",
        title="Active courses by phase",
        description=", ".join(f"{label}: {count}" for _, label, count in board.phase_counts),
        items=[(label, count, str(count), 0) for _, label, count in board.phase_counts],
    )
    return render(
        request,
        "caseload/dashboard.html",
        {
            "clinic": clinic,
            "board": board,
            "headers": headers,
            "rows": rows,
            "table_body": table_body,
            "table_footer": table_footer,
            "metrics": METRICS,
            "sort": sort,
            "descending": descending,
            "phase_chart": phase_chart,
            "phq9_rule": PHQ9_OVERDUE_RULE,
        },
    )


def _next_dir(key: str, sort: str, descending: bool) -> str:
    if key == sort:
        return "asc" if descending else "desc"
    return "asc" if key == "therapist" else "desc"


def _figure(row, key: str) -> tuple[str, int]:
    """A row's figure as shown, and the count behind it (0 shows muted)."""
    if key == "no_show_rate":
        rate = row.no_show_rate
        seen = row.attended_recent + row.no_show_recent
        text = "—" if rate is None else f"{round(rate * 100)}% ({row.no_show_recent}/{seen})"
        return text, row.no_show_recent
    count = row.counts.get(key, 0)
    return str(count), count


def _row_html(out: list[str], row, cells: list[tuple[str, str, str]], header: str) -> None:
    """One table row, every figure a link to the patients behind it, added to ``out`` piece
    by piece (joined once for the whole table).

    Built here rather than in the template: a clinic of 200 therapists has some 3,000 linked
    figures, and per-variable template rendering made them the slowest part of the page.
    ``cells`` holds each metric's key with the start of its link and of its label, built once
    per page. Every interpolated value is escaped here or there, or is an integer, a fixed
    metric key or a figure formatted above.
    """
    name = escape(row.name)
    therapist = f"&amp;therapist={row.therapist_id}" if row.therapist_id is not None else ""
    counts = row.counts
    out.extend(("<tr>", header.format(name=name)))
    for key, link, label in cells:
        if key == "no_show_rate":
            text, count = _figure(row, key)
        else:
            count = counts.get(key, 0)
            text = str(count)
        out.extend(
            (
                link,
                therapist,
                '"' if count else _MUTED,
                ' aria-label="',
                name,
                label,
                text,
                '">',
                text,
                "</a></td>",
            )
        )
    out.append("</tr>")


_MUTED = '" class="text-body-secondary"'


def _table_html(rows, totals) -> tuple[SafeString, SafeString]:
    drilldown_url = reverse("caseload:drilldown")
    cells = [
        (
            metric.key,
            f'<td><a href="{drilldown_url}?metric={metric.key}',
            f" — {escape(metric.label)}: ",
        )
        for metric in METRICS
    ]
    badge = ' <span class="badge text-bg-secondary">deactivated</span>'
    plain = '<th scope="row">{name}</th>'
    flagged = '<th scope="row">{name}' + badge + "</th>"
    body: list[str] = []
    for row in rows:
        _row_html(body, row, cells, flagged if row.deactivated else plain)
    footer: list[str] = []
    _row_html(footer, totals, cells, plain)
    # Escaped in _row_html.
    return mark_safe("".join(body)), mark_safe("".join(footer))  # noqa: S308  # nosec B308 B703


def _filters_from(request: HttpRequest) -> tuple[CourseFilterForm, CourseFilters | None]:
    form = CourseFilterForm(request.GET or None, clinic_id=request.user.clinic_id)
    if not request.GET:
        return form, CourseFilters()
    return form, (form.to_filters() if form.is_valid() else None)


def filtered_courses(request: HttpRequest):
    """The filter form, the filters (None when the form is invalid) and the matching courses;
    shared with the CSV export so the file holds exactly what the table shows."""
    form, filters = _filters_from(request)
    clinic = request.user.clinic
    window = Window.for_clinic(clinic.tz)
    if filters is None:
        return form, None, courses_for_review(clinic.pk, CourseFilters(), window).none()
    return form, filters, courses_for_review(clinic.pk, filters, window)


def _query_without_page(request: HttpRequest) -> str:
    kept = [(key, value) for key, value in request.GET.lists() if key != "page"]
    return urlencode([(key, v) for key, values in kept for v in values])


@clinic_admin_required
def courses(request: HttpRequest) -> HttpResponse:
    return _course_list(request, metric=None)


@clinic_admin_required
def drilldown(request: HttpRequest) -> HttpResponse:
    metric = METRICS_BY_KEY.get(request.GET.get("metric", ""))
    if metric is None:
        raise Http404("No such figure.")
    return _course_list(request, metric=metric)


def _course_list(request: HttpRequest, metric) -> HttpResponse:
    form, filters, matching = filtered_courses(request)
    page = Paginator(matching, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    record_list_view(
        request=request,
        patient_ids=(course.patient_id for course in page.object_list),
        summary=f"{metric.label if metric else 'Caseload'} viewed (page {page.number})",
    )
    return render(
        request,
        "caseload/courses.html",
        {
            "form": form,
            "filters": filters,
            "metric": metric,
            "page": page,
            "query": _query_without_page(request),
        },
    )


@clinic_admin_required
def outcomes(request: HttpRequest) -> HttpResponse:
    form, report = outcomes_from(request)
    return render(
        request,
        "caseload/outcomes.html",
        {
            "form": form,
            "report": report,
            "clinic_groups": [report.clinic] if report else [],
            "columns": OUTCOME_COLUMNS,
            "rules": OUTCOME_RULES,
            "query": urlencode(
                {"date_from": report.date_from, "date_to": report.date_to} if report else {}
            ),
            "charts": _outcome_charts(report) if report else [],
        },
    )


def outcomes_from(request: HttpRequest) -> tuple[PeriodForm, Outcomes | None]:
    clinic = request.user.clinic
    if "date_from" in request.GET or "date_to" in request.GET:
        form = PeriodForm(request.GET)
        if not form.is_valid():
            return form, None
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    else:
        start, end = PeriodForm.default_period(timezone.now().astimezone(clinic.tz).date())
        form = PeriodForm(initial={"date_from": start, "date_to": end})
    return form, outcomes_for_clinic(clinic.pk, clinic.tz, start, end)


def _outcome_charts(report: Outcomes) -> list:
    groups = [report.clinic, *report.by_therapist]
    median_items = []
    rate_items = []
    for group in groups:
        if group.suppressed:
            median_items.append((group.label, None, "fewer than 5 patients — not shown", 0))
            rate_items.append((group.label, None, "fewer than 5 patients — not shown", 0))
            continue
        for series, (name, value) in enumerate(
            [("baseline", group.median_baseline), ("final", group.median_final)]
        ):
            text = "not shown" if value is None else f"{value:g}"
            median_items.append((f"{group.label} · {name}", value, text, series))
        for series, (name, value) in enumerate(
            [("response", group.response_rate), ("remission", group.remission_rate)]
        ):
            text = "not shown" if value is None else f"{round(value * 100)}%"
            rate_items.append((f"{group.label} · {name}", value, text, series))
    return [
        bar_chart(
            chart_id="phq9-chart",
            title="Median PHQ-9 at baseline and at the end, completed courses",
            description="Median baseline and final PHQ-9 by therapist, with the clinic first.",
            items=median_items,
            max_value=27,
            series=["Baseline (solid)", "Final (outlined)"],
        ),
        bar_chart(
            chart_id="rate-chart",
            title="Response and remission rates, completed courses",
            description="Response and remission as a share of completed courses with scores.",
            items=rate_items,
            max_value=1,
            series=["Response (solid)", "Remission (outlined)"],
        ),
    ]
