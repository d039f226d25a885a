"""The course's score chart as server-rendered SVG: PHQ-9 and GAD-7 over time, the phases as
labelled bands behind, life events as numbered markers, the PHQ-9 severity thresholds. The
WSAS (functioning, 0-40) is drawn in a panel of its own under it (``wsas_chart_svg``), on its
own scale and the same time axis, so that its totals are never read against the PHQ-9's bands.

Readable without colour: the two series differ by line pattern (solid / dashed) and marker
shape (circle / square) and are labelled at their ends; every band, threshold and event has
a text label; the SVG has a <title> and <desc>, and the page shows the same figures as a table.
Every piece of text is escaped (``conditional_escape``, as ``format_html`` escapes it); the
numbers and the module's own constants are written as they are, without ``format_html``'s
escaping of each (a course's chart is a hundred elements and more, on every course page).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from ipt_clinic.dates import HISTORY_FIRST, HISTORY_LAST
from phases.models import Phase

from .display import day_and_time, instrument_label
from .scoring import unscored_words
from .selectors import ChartData

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 44, 96, 30, 64
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM
Y_MAX = 27
PHQ9_THRESHOLDS = ((5, "mild"), (10, "moderate"), (15, "mod. severe"), (20, "severe"))
PHASE_SHORT = {
    Phase.INITIAL: "Initial",
    Phase.SOCIAL: "Social",
    Phase.PROBLEM_SOLVING: "Problem-solving",
    Phase.TERMINATION: "Termination",
    Phase.COMPLETED: "Completed",
    Phase.MAINTENANCE: "Maintenance",
}
BAND_FILLS = ("#eef1f5", "#fbfbfc")
# The chart draws what lies within the years a date may be typed in (ipt_clinic.dates); a
# value stored outside them (a typo such as 9999) is left out of the drawing, never out of
# the table under it, and cannot stretch the time axis past the calendar's end.
DRAWN_FROM = datetime.combine(HISTORY_FIRST, datetime.min.time(), tzinfo=UTC)
DRAWN_UNTIL = datetime.combine(HISTORY_LAST, datetime.max.time(), tzinfo=UTC)


# The two series, told apart by line pattern and marker shape as well as colour:
# (instrument, label, colour, stroke-dasharray, marker shape).
SERIES = (
    ("phq9", "PHQ-9", "#1f4e9c", "", "circle"),
    ("gad7", "GAD-7", "#9c4a00", "6 4", "square"),
)
# The WSAS panel: its series, its scale and the bands of Mundt et al. (2002).
WSAS_SERIES = ("wsas", "WSAS", "#2e6b34", "", "diamond")
WSAS_HEIGHT = 200
WSAS_PLOT_H = WSAS_HEIGHT - TOP - 30
WSAS_Y_MAX = 40
WSAS_THRESHOLDS = ((10, "significant impairment"), (21, "severe impairment"))


def series_marker(shape: str, cx: float, cy: float, colour: str, tip: str) -> SafeString:
    """One point of a series: a filled circle, an open square or a filled diamond, with its
    text as a tooltip (``colour`` and ``tip`` are escaped)."""
    colour, tip = conditional_escape(colour), conditional_escape(tip)
    if shape == "diamond":
        return mark_safe(  # noqa: S308 - numbers, and text escaped above  # nosec B308 B703
            f'<path d="M {cx} {round(cy - 5, 1)} l 5 5 l -5 5 l -5 -5 z" fill="{colour}" '
            f'stroke="#fff"><title>{tip}</title></path>'
        )
    if shape == "circle":
        return mark_safe(  # noqa: S308 - numbers, and text escaped above  # nosec B308 B703
            f'<circle cx="{cx}" cy="{cy}" r="4.5" fill="{colour}" stroke="#fff">'
            f"<title>{tip}</title></circle>"
        )
    return mark_safe(  # noqa: S308 - numbers, and text escaped above  # nosec B308 B703
        f'<rect x="{round(cx - 4, 1)}" y="{round(cy - 4, 1)}" width="8" height="8" fill="#fff" '
        f'stroke="{colour}" stroke-width="2"><title>{tip}</title></rect>'
    )


def drawn(moment: datetime) -> bool:
    """Whether a chart draws ``moment`` (within the years a date may be typed in)."""
    return _drawn(moment)


def _drawn(moment: datetime) -> bool:
    return DRAWN_FROM <= moment <= DRAWN_UNTIL


def _drawn_day(day: date) -> bool:
    return HISTORY_FIRST <= day <= HISTORY_LAST


@dataclass
class Band:
    phase: str
    start: datetime
    end: datetime


def phase_bands(data: ChartData, start: datetime, end: datetime) -> list[Band]:
    """The phases as time spans: the course starts in the initial phase; each transition
    (forward or back) starts the phase it moved to."""
    bands: list[Band] = []
    current, since = Phase.INITIAL.value, start
    for transition in data.transitions:
        if not _drawn(transition.at):
            continue
        if transition.kind == "started":
            current, since = transition.to_phase, min(since, transition.at)
            continue
        if transition.at > since:
            bands.append(Band(current, since, transition.at))
        current, since = transition.to_phase, max(since, transition.at)
    if end > since:
        bands.append(Band(current, since, end))
    return bands


def _time_range(data: ChartData, tz) -> tuple[datetime, datetime]:
    course = data.course
    first_day = min(max(course.start_date, HISTORY_FIRST), HISTORY_LAST)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    moments = [m.taken_at for m in data.measures] + [t.at for t in data.transitions]
    moments = [moment for moment in moments if _drawn(moment)]
    moments += [
        datetime.combine(e.occurred_on, datetime.min.time(), tzinfo=tz)
        for e in data.life_events
        if _drawn_day(e.occurred_on) and e.occurred_on >= first_day - timedelta(days=90)
    ]
    end = course.ended_at if course.ended_at and _drawn(course.ended_at) else timezone.now()
    if moments:
        start = min(start, *moments)
        end = max(end, *moments)
    if end - start < timedelta(days=7):
        end = start + timedelta(days=7)
    return start, end + (end - start) * 0.02


def _phase_rects(data: ChartData, start, end, x, plot_h: float, *, labelled: bool) -> list:
    """The phases as shaded bands behind a plot ``plot_h`` high, named at the top when
    ``labelled`` (the WSAS panel under the chart repeats the bands, not their names)."""
    esc = conditional_escape
    parts = []
    for index, band in enumerate(phase_bands(data, start, end)):
        x0, x1 = x(band.start), x(band.end)
        label = Phase(band.phase).label if band.phase in Phase.values else band.phase
        parts.append(
            f'<rect x="{x0}" y="{TOP}" width="{max(round(x1 - x0, 1), 0.5)}" height="{plot_h}" '
            f'fill="{BAND_FILLS[index % 2]}" stroke="#adb5bd" stroke-width="0.5">'
            f"<title>{esc(label)}</title></rect>"
        )
        if labelled:
            parts.append(
                f'<text x="{x0 + 3}" y="{TOP - 6 if index % 2 == 0 else TOP + 12}" '
                f'font-size="11" fill="#343a40">{esc(PHASE_SHORT.get(band.phase, band.phase))}'
                "</text>"
            )
    return parts


def _date_ticks(start, end, x, plot_h: float, tz) -> list:
    """Start, end and three days between under a plot ``plot_h`` high."""
    bottom = TOP + plot_h
    parts = []
    for step in range(5):
        moment = start + (end - start) * (step / 4)
        tick = x(moment)
        label = timezone.localtime(moment, tz).strftime("%d %b %Y")
        parts.append(
            f'<line x1="{tick}" y1="{bottom}" x2="{tick}" y2="{bottom + 4}" stroke="#212529"/>'
            f'<text x="{tick}" y="{bottom + 15}" font-size="10" text-anchor="middle" '
            f'fill="#212529">{conditional_escape(label)}</text>'
        )
    return parts


def score_chart_svg(data: ChartData, *, tz) -> SafeString:
    start, end = _time_range(data, tz)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + PLOT_W * (moment - start).total_seconds() / span, 1)

    def y(score: float) -> float:
        return round(TOP + PLOT_H * (1 - score / Y_MAX), 1)

    chart_id = f"score-chart-{data.course.pk}"
    # Numbers (ints and floats, written as str() writes them) go in as they are; every piece
    # of text through ``esc``.
    esc = conditional_escape
    parts: list[str] = []

    # Phase bands, labelled at the top.
    parts.extend(_phase_rects(data, start, end, x, PLOT_H, labelled=True))

    # Axes and PHQ-9 thresholds.
    right, bottom = LEFT + PLOT_W, TOP + PLOT_H
    parts.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#212529"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#212529"/>'
    )
    for value in (0, 5, 10, 15, 20, 27):
        parts.append(
            f'<text x="{LEFT - 4}" y="{y(value) + 3}" font-size="10" text-anchor="end" '
            f'fill="#212529">{value}</text>'
        )
    for value, label in PHQ9_THRESHOLDS:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value)}" x2="{right}" y2="{y(value)}" stroke="#6c757d" '
            f'stroke-dasharray="1 3"/><text x="{LEFT + 4}" y="{y(value) - 2}" font-size="9" '
            f'fill="#495057">PHQ-9 {value} ({esc(label)})</text>'
        )

    # Date ticks: start, end and three between, in the clinic's calendar.
    parts.extend(_date_ticks(start, end, x, PLOT_H, tz))

    # The two series.
    for code, label, colour, dash, shape in SERIES:
        points = [m for m in data.measures if m.instrument == code and _drawn(m.taken_at)]
        if not points:
            continue
        coords = " ".join(f"{x(m.taken_at)},{y(m.total)}" for m in points)
        parts.append(
            f'<polyline points="{esc(coords)}" fill="none" stroke="{esc(colour)}" '
            f'stroke-width="2" stroke-dasharray="{esc(dash or "none")}"/>'
        )
        for measure in points:
            cx, cy = x(measure.taken_at), y(measure.total)
            ordinal = data.session_ordinals.get(measure.session_id)
            day = timezone.localtime(measure.taken_at, tz).strftime("%d %b %Y")
            tip = mark_safe(  # noqa: S308 - every piece escaped  # nosec B308 B703
                f"{esc(label)} {esc(measure.total)} ({esc(measure.severity)}) on {esc(day)}"
                + (esc(f", session {ordinal}") if ordinal else "")
            )
            parts.append(series_marker(shape, cx, cy, colour, tip))
        last = points[-1]
        parts.append(
            f'<text x="{right + 6}" y="{y(last.total) + (4 if code == "phq9" else 16)}" '
            f'font-size="12" font-weight="bold" fill="{esc(colour)}">{esc(label)} '
            f"{esc(last.total)}</text>"
        )

    # Life events: numbered triangles below the axis (the table lists them).
    for number, event in enumerate(data.life_events, start=1):
        if not _drawn_day(event.occurred_on):
            continue
        moment = datetime.combine(event.occurred_on, datetime.min.time(), tzinfo=tz)
        if not start <= moment <= end:
            continue
        ex, ey = x(moment), bottom + 30
        parts.append(
            f"<g><title>{esc(event.occurred_on.strftime('%d %b %Y'))}: "
            f'{esc(event.description)}</title><path d="M {ex} {ey - 5} l 6 10 l -12 0 z" '
            f'fill="#212529"/><text x="{ex}" y="{ey + 18}" font-size="10" '
            f'text-anchor="middle" fill="#212529">{number}</text></g>'
        )
    if data.life_events:
        parts.append(
            f'<text x="{right + 6}" y="{bottom + 34}" font-size="10" '
            'fill="#212529">▲ life events</text>'
        )

    phq = [m.total for m in data.measures if m.instrument == "phq9"]
    gad = [m.total for m in data.measures if m.instrument == "gad7"]
    description = (
        f"PHQ-9: {len(phq)} scores"
        + (f", first {phq[0]}, latest {phq[-1]}" if phq else "")
        + f". GAD-7: {len(gad)} scores"
        + (f", first {gad[0]}, latest {gad[-1]}" if gad else "")
        + f". {len(data.transitions)} phase changes, {len(data.life_events)} life events. "
        "The table below lists every value."
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" class="svg-figure" font-family="system-ui, sans-serif" role="img" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">Symptom scores over the course: PHQ-9 (solid line, circles) '
        'and GAD-7 (dashed line, squares)</title><desc id="{id}-desc">{desc}</desc>'
        "{body}</svg>",
        w=WIDTH,
        h=HEIGHT,
        id=chart_id,
        desc=description,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html  # nosec B308 B703
    )


def wsas_chart_svg(data: ChartData, *, tz) -> SafeString:
    """The WSAS panel: its totals over the same time axis as ``score_chart_svg`` (same width,
    margins and time range, so a day falls at the same place in both), on its own 0-40 scale
    with the bands of Mundt et al. (2002) as labelled lines: 10 (significant impairment) and
    21 (severe impairment). Empty when the course has no WSAS to draw."""
    code, label, colour, dash, shape = WSAS_SERIES
    points = [m for m in data.measures if m.instrument == code and _drawn(m.taken_at)]
    if not points:
        return SafeString("")
    start, end = _time_range(data, tz)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + PLOT_W * (moment - start).total_seconds() / span, 1)

    def y(score: float) -> float:
        return round(TOP + WSAS_PLOT_H * (1 - score / WSAS_Y_MAX), 1)

    parts: list[str] = _phase_rects(data, start, end, x, WSAS_PLOT_H, labelled=False)
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="11" font-weight="bold" fill="#212529">'
            "WSAS: work and social adjustment (0-40, higher is more impaired)</text>"
            '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#212529"/>'
            '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#212529"/>',
            LEFT,
            TOP - 8,
            l=LEFT,
            r=LEFT + PLOT_W,
            t=TOP,
            b=TOP + WSAS_PLOT_H,
        )
    )
    for value in (0, 10, 20, 30, 40):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#212529">{}</text>',
                LEFT - 4,
                y(value) + 3,
                value,
            )
        )
    for value, words in WSAS_THRESHOLDS:
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#6c757d" stroke-dasharray="1 3"/>'
                '<text x="{}" y="{}" font-size="9" fill="#495057">WSAS {} ({})</text>',
                LEFT,
                y(value),
                LEFT + PLOT_W,
                y(value),
                LEFT + 4,
                y(value) - 2,
                value,
                words,
            )
        )
    parts.extend(_date_ticks(start, end, x, WSAS_PLOT_H, tz))
    parts.append(
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
            'stroke-dasharray="{}"/>',
            " ".join(f"{x(m.taken_at)},{y(m.total)}" for m in points),
            colour,
            dash or "none",
        )
    )
    for measure in points:
        ordinal = data.session_ordinals.get(measure.session_id)
        unscored = unscored_words(code, measure.answers)
        tip = format_html(
            "{} {} ({}) on {}{}{}",
            label,
            measure.total,
            measure.severity,
            timezone.localtime(measure.taken_at, tz).strftime("%d %b %Y"),
            f", session {ordinal}" if ordinal else "",
            f"; {unscored}" if unscored else "",
        )
        parts.append(series_marker(shape, x(measure.taken_at), y(measure.total), colour, tip))
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="12" font-weight="bold" fill="{}">{} {}</text>',
            LEFT + PLOT_W + 6,
            y(points[-1].total) + 4,
            colour,
            label,
            points[-1].total,
        )
    )
    every = [m for m in data.measures if m.instrument == code]
    description = (
        f"WSAS: {len(every)} scores, first {every[0].total} ({every[0].severity}), latest "
        f"{every[-1].total} ({every[-1].severity}). Dotted lines at 10 (significant "
        "impairment) and 21 (severe impairment). The table below lists every value."
    )
    chart_id = f"wsas-chart-{data.course.pk}"
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        'height="{h}" class="svg-figure" font-family="system-ui, sans-serif" role="img" '
        'aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">Work and social adjustment (WSAS) over the course: solid '
        "green line, diamonds, on its own scale of 0 to 40</title>"
        '<desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=WSAS_HEIGHT,
        id=chart_id,
        desc=description,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html  # nosec B308 B703
    )


def chart_table_rows(data: ChartData, tz) -> list[dict]:
    """The chart's figures as rows (date, session, instrument, total, severity) for the
    table under the chart, written out here (a long course has dozens)."""
    rows = []
    for measure in data.measures:
        ordinal = data.session_ordinals.get(measure.session_id)
        rows.append(
            {
                "taken": day_and_time(measure.taken_at, tz),
                "session": str(ordinal) if ordinal else "—",
                "instrument": instrument_label(measure.instrument),
                "total": str(measure.total),
                "severity": measure.severity,
                "unscored": unscored_words(measure.instrument, measure.answers),
                "risk_flag": measure.risk_flag,
            }
        )
    return rows
