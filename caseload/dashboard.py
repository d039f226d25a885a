"""The clinic admin's caseload review: the dashboard, its drill-downs, the filtered caseload
table and the outcomes page. Clinic admins only; everyone else gets 404."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from patients.services import record_list_view
from sessions.models import Measure

from .admin_access import clinic_admin_required
from .charts import bar_chart
from .dashboard_selectors import (
    LEAD_KEYS,
    METRICS,
    METRICS_BY_KEY,
    PHQ9_OVERDUE_RULE,
    SORT_KEYS,
    TABLE_METRICS,
    CourseFilters,
    Window,
    age_text,
    courses_for_review,
    open_risk_flags,
)
from .figures import TherapistRows, kept_dashboard
from .outcomes import OUTCOME_COLUMNS, OUTCOME_RULES, Outcomes, outcomes_for_clinic
from .recovery import PAGE_COLUMNS, RECOVERY_RULES, recovery_for_clinic
from .review_forms import CourseFilterForm, PeriodForm

PAGE_SIZE = 50
# Therapists a page of the dashboard's table (a clinic may have hundreds).
BOARD_PAGE_SIZE = 25


@clinic_admin_required
def dashboard(request: HttpRequest) -> HttpResponse:
    clinic = request.user.clinic
    state = BoardState.from_query(request.GET)
    board = kept_dashboard(clinic_id=clinic.pk, tz=clinic.tz)
    rows = TherapistRows(
        clinic_id=clinic.pk,
        row_count=board.row_count,
        sort=state.sort,
        descending=state.descending,
    )
    page = Paginator(rows, BOARD_PAGE_SIZE).get_page(state.page)
    state = state.on_page(page.number)
    headers = [
        {
            "key": key,
            "label": label,
            "help": help_text,
            # A new order starts again from its first page.
            "url": "?"
            + urlencode({"sort": key, "dir": _next_dir(key, state.sort, state.descending)}),
            "aria_sort": ("descending" if state.descending else "ascending")
            if key == state.sort
            else "",
        }
        for key, label, help_text in [
            ("therapist", "Therapist", ""),
            *[(m.key, m.heading, m.help) for m in TABLE_METRICS],
        ]
    ]
    table_body, table_footer = _table_html(page.object_list, board.totals, state)
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
            "lead": _lead_figures(board, clinic, state),
            "headers": headers,
            "page": page,
            "rows": page.object_list,
            "pages": _page_links(page, state),
            "table_body": table_body,
            "table_footer": table_footer,
            "metrics": METRICS,
            "sort": state.sort,
            "descending": state.descending,
            "phase_chart": phase_chart,
            "phq9_rule": PHQ9_OVERDUE_RULE,
        },
    )


@dataclass(frozen=True)
class BoardState:
    """The dashboard's order and page, as its links carry them (``?sort=&dir=&page=``), and
    in one short value (``risk_open.desc.2``) that the figures' links hand to the drill-down
    so that its way back returns to the same order and page."""

    sort: str = "therapist"
    descending: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query) -> "BoardState":
        sort = query.get("sort", "therapist")
        try:
            page = max(1, int(query.get("page", 1)))
        except (TypeError, ValueError):
            page = 1
        return cls(
            sort=sort if sort in SORT_KEYS else "therapist",
            descending=query.get("dir") == "desc",
            page=page,
        )

    @classmethod
    def from_token(cls, token: str) -> "BoardState | None":
        sort, _, rest = (token or "").partition(".")
        direction, _, page = rest.partition(".")
        if sort not in SORT_KEYS or direction not in ("asc", "desc") or not page.isdigit():
            return None
        return cls(sort=sort, descending=direction == "desc", page=max(1, int(page)))

    def on_page(self, number: int) -> "BoardState":
        return BoardState(self.sort, self.descending, number)

    @property
    def token(self) -> str:
        return f"{self.sort}.{'desc' if self.descending else 'asc'}.{self.page}"

    def query(self, page: int | None = None) -> str:
        values = {"sort": self.sort, "dir": "desc" if self.descending else "asc"}
        values["page"] = page or self.page
        return urlencode(values)


def _page_links(page, state: BoardState) -> dict:
    """The pager's links: each keeps the order."""
    return {
        "previous": "?" + state.query(page.previous_page_number()) if page.has_previous() else "",
        "next": "?" + state.query(page.next_page_number()) if page.has_next() else "",
        "first_row": page.start_index(),
        "last_row": page.end_index(),
        "rows": page.paginator.count,
    }


def _lead_figures(board, clinic, state: BoardState) -> list[dict]:
    """The three figures the dashboard leads with, each linked to its patients; the open
    risk flags with the age of the oldest, marked once it is past the clinic's escalation
    window."""
    totals = board.totals
    drilldown = reverse("caseload:drilldown")
    window = clinic.escalation_window
    oldest = board.window.now - totals.risk_oldest_at if totals.risk_oldest_at is not None else None
    figures = []
    for key in LEAD_KEYS:
        metric = METRICS_BY_KEY[key]
        figure = {
            "key": key,
            "label": metric.label,
            "help": metric.help,
            "count": totals.counts.get(key, 0),
            "url": f"{drilldown}?" + urlencode({"metric": key, "from": state.token}),
        }
        if key == "risk_open" and oldest is not None:
            figure["oldest"] = age_text(oldest)
            figure["overdue"] = oldest > window
            figure["window"] = clinic.escalation_window_label
        figures.append(figure)
    return figures


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


def _row_html(
    out: list[str], row, cells: list[tuple[str, str, str]], header: str, tail: str
) -> None:
    """One table row, every figure a link to the patients behind it, added to ``out`` piece
    by piece (joined once for the whole table).

    Built here rather than in the template: per-variable template rendering of the linked
    figures was the slowest part of the page. ``cells`` holds each metric's key with the
    start of its link and of its label, built once per page, ``tail`` the end of every link's
    query (the dashboard's order and page). Every interpolated value is escaped here or
    there, or is an integer, a fixed metric key or a figure formatted above.
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
                tail,
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


def _table_html(rows, totals, state: BoardState) -> tuple[SafeString, SafeString]:
    drilldown_url = reverse("caseload:drilldown")
    cells = [
        (
            metric.key,
            f'<td><a href="{drilldown_url}?metric={metric.key}',
            f" — {escape(metric.label)}: ",
        )
        for metric in TABLE_METRICS
    ]
    tail = f"&amp;from={escape(state.token)}"
    badge = ' <span class="badge text-bg-secondary">deactivated</span>'
    plain = '<th scope="row">{name}</th>'
    flagged = '<th scope="row">{name}' + badge + "</th>"
    body: list[str] = []
    for row in rows:
        _row_html(body, row, cells, flagged if row.deactivated else plain, tail)
    footer: list[str] = []
    _row_html(footer, totals, cells, plain, tail)
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
    if metric.key == "risk_open":
        return _risk_flag_list(request, metric=metric)
    return _course_list(request, metric=metric)


def _back_to_board(request: HttpRequest) -> str:
    """The dashboard at the order and page the figure was followed from."""
    state = BoardState.from_token(request.GET.get("from", "")) or BoardState()
    return reverse("caseload:dashboard") + "?" + state.query()


def _risk_flag_list(request: HttpRequest, metric) -> HttpResponse:
    """The open risk flags behind the dashboard's figure, oldest first, each with its age,
    marked once it is past the clinic's escalation window."""
    form, filters = _filters_from(request)
    clinic = request.user.clinic
    flags = (
        open_risk_flags(clinic.pk, filters.therapist_id)
        if filters is not None
        else Measure.objects.none()
    )
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    record_list_view(
        request=request,
        patient_ids=(flag.course.patient_id for flag in page.object_list),
        summary=f"{metric.label} viewed (page {page.number})",
    )
    now = timezone.now()
    window = clinic.escalation_window
    for flag in page.object_list:
        flag.age = now - flag.created_at
        flag.age_text = age_text(flag.age)
        flag.overdue = flag.age > window
    therapist = form.cleaned_data.get("therapist") if filters is not None else None
    return render(
        request,
        "caseload/risk_flags.html",
        {
            "metric": metric,
            "filters": filters,
            "therapist": therapist,
            "page": page,
            "window": clinic.escalation_window_label,
            "back": _back_to_board(request),
            "every_therapist": "?"
            + urlencode({"metric": metric.key, "from": request.GET.get("from", "")}),
            "query": _query_without_page(request),
        },
    )


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
            "back": _back_to_board(request) if metric else "",
        },
    )


@clinic_admin_required
def outcomes(request: HttpRequest) -> HttpResponse:
    form, report = outcomes_from(request)
    clinic = request.user.clinic
    recovery = (
        recovery_for_clinic(clinic.pk, clinic.tz, report.date_from, report.date_to)
        if report
        else None
    )
    if report is not None:
        # Inside the clinic's view the counts show, small ones too: one event naming every
        # patient whose course the page counts.
        record_list_view(
            request=request,
            patient_ids=(course.patient_id for course in report.clinic.courses),
            summary=f"Outcomes viewed ({report.date_from} to {report.date_to})",
        )
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
            "recovery": recovery,
            "recovery_clinic": [recovery.clinic] if recovery else [],
            "recovery_columns": PAGE_COLUMNS,
            "recovery_rules": RECOVERY_RULES,
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
