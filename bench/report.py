"""Write the benchmark's published tables from the file the run left: every figure in
README.md ("Benchmarks and the load run") and bench/README.md ("Latest results") between
their markers comes from ``bench/results/latest.json``, which ``make bench`` writes.

    .venv/bin/python bench/report.py             # rewrite the tables from latest.json
    .venv/bin/python bench/report.py --check     # exit 1 if a published table differs
    .venv/bin/python bench/report.py --results path/to/run.json

A table sits between ``<!-- bench/report.py: NAME -->`` and ``<!-- /bench/report.py: NAME -->``
(NAME: ``summary`` in README.md, ``detail`` in bench/README.md). Text outside the markers is
left alone; edit the tables by running the script, not by hand (tests/foundation/
test_bench_report.py compares them with latest.json).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from datetime import datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "latest.json"
# Which block goes into which file.
TARGETS = {"summary": BASE_DIR / "README.md", "detail": BASE_DIR / "bench" / "README.md"}


class ReportError(Exception):
    pass


def begin_marker(name: str) -> str:
    return f"<!-- bench/report.py: {name} -->"


def end_marker(name: str) -> str:
    return f"<!-- /bench/report.py: {name} -->"


def _ms(value) -> str:
    return f"{value:.1f}"


def _int(value) -> str:
    return f"{value:,}"


def _when(results: dict) -> str:
    started = datetime.fromisoformat(results["started_at"])
    finished = datetime.fromisoformat(results.get("finished_at") or results["started_at"])
    day = f"{started.day} {started:%B %Y}"
    return f"{day}, {started:%H:%M}-{finished:%H:%M} UTC"


def _scales(results: dict) -> tuple[str, str]:
    """The low and the high scale, as the file's keys (JSON keys are strings)."""
    keys = sorted(results["scales"], key=int)
    return keys[0], keys[-1]


def _verdict(row: dict) -> str:
    if "pass" not in row:
        return "not measured"
    if row["pass"]:
        return "pass"
    missed = []
    if not row.get("p95_ok"):
        missed.append("p95 over target")
    if not row.get("ratio_ok"):
        missed.append("ratio over target")
    if not row.get("queries_equal"):
        missed.append("queries differ")
    return "**FAIL** (" + ", ".join(missed) + ")"


def _target(row: dict) -> str:
    return f"≤ {row['target_p95_ms']:g} ms, ≤ {row['target_ratio']:g}×"


def _rounds(n: int) -> str:
    return "one round" if n == 1 else f"{n} rounds"


def _run_line(results: dict) -> str:
    machine = results.get("machine", {})
    low, high = _scales(results)
    counts = {key: results["scales"][key].get("counts", {}) for key in (low, high)}
    big = counts[high]
    load = results.get("load_average_before_pages")
    return (
        f"Run of {_when(results)}: {machine.get('cpus', '?')} CPUs ({machine.get('cpu') or '?'}), "
        f"PostgreSQL {machine.get('postgresql', '?')}, Python {machine.get('python', '?')}"
        + (f", load average {load[0]:g} when the pages began" if load else "")
        + f". Scale {low} is {_int(counts[low].get('patients', 0))} patients; scale {high} is "
        f"{_int(big.get('patients', 0))} patients ({_int(big.get('sessions', 0))} sessions, "
        f"{_int(big.get('measures', 0))} scores, {_int(big.get('assignments', 0))} assignments). "
        f"Server time per request, in-process through the whole middleware stack, "
        f"{results['requests_per_page']} requests per page in {_rounds(results.get('rounds', 1))}, "
        f"each page at both scales one after the other."
    )


def _pages_table(results: dict) -> list[str]:
    low, high = _scales(results)
    lines = [
        f"| page | scale {low} p50 / p95 (ms) | scale {high} p50 / p95 (ms) | "
        f"queries ({low} / {high}) | p95 ratio | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["pages"]:
        a, b = row.get(f"scale_{low}", {}), row.get(f"scale_{high}", {})
        if "p95_ms" not in a or "p95_ms" not in b:
            reason = b.get("not_available") or a.get("not_available") or "not measured"
            lines.append(f"| {row['label']} | – | – | – | – | {_target(row)} | not available: "
                         f"{reason} |")  # fmt: skip
            continue
        ratio = row.get("p95_ratio")
        lines.append(
            f"| {row['label']} | {_ms(a['p50_ms'])} / {_ms(a['p95_ms'])} | "
            f"{_ms(b['p50_ms'])} / {_ms(b['p95_ms'])} | {a['queries']} / {b['queries']} | "
            f"{'–' if ratio is None else f'{ratio:.2f}'} | {_target(row)} | {_verdict(row)} |"
        )
    return lines


def _dashboard_line(results: dict) -> str | None:
    _, high = _scales(results)
    pair = results["scales"][high].get("dashboard_by_clinic_size", {})
    if "p95_ratio" not in pair:
        reason = pair.get("large", {}).get("not_available") or "not measured"
        return f"Clinic dashboard, large clinic against small: not available ({reason})."
    large, small = pair["large"], pair["small"]
    ok = pair.get("p95_ok") and pair.get("ratio_ok")
    return (
        f"Clinic dashboard at scale {high}, large clinic against small: "
        f"{_int(large['patients'])} patients p50 {_ms(large['p50_ms'])} / p95 "
        f"{_ms(large['p95_ms'])} ms ({large['queries']} queries) against "
        f"{_int(small['patients'])} patients p50 {_ms(small['p50_ms'])} / p95 "
        f"{_ms(small['p95_ms'])} ms ({small['queries']} queries): ratio "
        f"{pair['p95_ratio']:.2f} (targets ≤ 150 ms, ≤ 3×): {'pass' if ok else '**FAIL**'}."
    )


def _kb(size: int) -> str:
    return f"{size / 1000:,.0f} KB"


def _http_lines(results: dict) -> list[str]:
    """The HTTP pass (bench/http_pass.py): the largest clinic's clinic-wide pages over
    gunicorn, at both scales."""
    figures = results.get("http")
    if not figures:
        return []
    if "pages" not in figures:
        return [_paragraph(f"HTTP pass: not available ({figures.get('not_available')}).")]
    clinics = figures["clinics"]
    scales = sorted(clinics, key=int)
    targets = figures["targets"]
    sizes = " and ".join(
        f"{_int(clinics[key]['patients'])} patients at scale {key}" for key in scales
    )
    names = {clinics[key]["clinic_name"] for key in scales}
    lines = [
        _paragraph(
            f"Over HTTP ({figures['server']}), the clinic admin of the largest clinic "
            f"({' / '.join(sorted(names))}: {sizes}), {figures['requests_per_page']} requests "
            "per page, timed from connecting to the last byte:"
        ),
        "",
        "| page | "
        + " | ".join(f"scale {key} p50 / p95 (ms), size" for key in scales)
        + " | p95 ratio | target | verdict |",
        "|---|" + "---|" * len(scales) + "---|---|---|",
    ]
    target = f"≤ {targets['p95_ms']:g} ms, ≤ {_kb(targets['bytes'])}" + (
        f", ≤ {targets['ratio']:g}×" if len(scales) > 1 else ""
    )
    for row in figures["pages"]:
        cells = [
            f"{_ms(row[f'scale_{key}']['p50_ms'])} / {_ms(row[f'scale_{key}']['p95_ms'])}, "
            f"{_kb(row[f'scale_{key}']['bytes'])}"
            for key in scales
        ]
        missed = [
            reason
            for flag, reason in (
                ("p95_ok", "p95 over target"),
                ("bytes_ok", "size over target"),
                ("ratio_ok", "ratio over target"),
            )
            if row.get(flag) is False
        ]
        verdict = "pass" if row["pass"] else "**FAIL** (" + ", ".join(missed) + ")"
        ratio = f"{row['p95_ratio']:.2f}" if "p95_ratio" in row else "–"
        lines.append(
            f"| {row['label']} | " + " | ".join(cells) + f" | {ratio} | {target} | {verdict} |"
        )
    return lines


def _notifications_line(results: dict) -> str:
    _, high = _scales(results)
    figures = results["scales"][high].get("notifications", {})
    if "delivery" not in figures or "noop_ceiling" not in figures:
        reason = figures.get("not_available", "not measured")
        return f"Notifications: not available ({reason})."
    claim, delivery, ceiling = (
        figures["claim_and_enqueue"],
        figures["delivery"],
        figures["noop_ceiling"],
    )
    shape = f"{figures.get('workers', 1)} worker × {figures.get('concurrency', '?')} processes"
    return (
        f"Notifications ({_int(figures['count'])} due rows, {shape}): claim and enqueue "
        f"{_int(round(claim['rate']))}/s (target {_int(claim['target_rate'])}/s: "
        f"{'pass' if claim['pass'] else '**FAIL**'}); delivery {_int(round(delivery['rate']))}/s "
        f"against a no-op ceiling of {_int(round(ceiling['rate']))}/s, "
        f"{delivery['share_of_ceiling']:.0%} (target 50%: "
        f"{'pass' if delivery['pass'] else '**FAIL**'}); {delivery['duplicates']} duplicates, "
        f"{delivery['lost']} lost, {_int(delivery['marked_sent'])} marked sent."
    )


def _busy_note(results: dict) -> str | None:
    """A warning when other work shared the machine while the pages were timed."""
    load = results.get("load_average_before_pages")
    cpus = results.get("machine", {}).get("cpus")
    if not load or not cpus or load[0] <= cpus:
        return None
    return (
        f"The machine was busy with other work (load average {load[0]:g} on {cpus} CPUs when the "
        "pages began): these figures measure that load as much as the code; compare a page's "
        "two scales and query counts rather than its milliseconds with the targets."
    )


def _paragraph(text: str) -> str:
    """Prose wrapped as the READMEs wrap theirs (tables stay one row a line)."""
    return textwrap.fill(text, width=95, break_long_words=False, break_on_hyphens=False)


def summary(results: dict) -> str:
    """README.md's block: the run, the pages' table, the dashboard pair, the HTTP pass, the
    notifications."""
    lines = [_paragraph(_run_line(results)), ""]
    busy = _busy_note(results)
    if busy:
        lines += [_paragraph(busy), ""]
    lines += [*_pages_table(results), ""]
    dashboard = _dashboard_line(results)
    if dashboard:
        lines += [_paragraph(dashboard), ""]
    http = _http_lines(results)
    if http:
        lines += [*http, ""]
    lines.append(_paragraph(_notifications_line(results)))
    return "\n".join(lines)


def detail(results: dict) -> str:
    """bench/README.md's block: what each scale held and where each page's time went."""
    low, high = _scales(results)
    lines = [
        _paragraph(f"Run of {_when(results)} (`bench/results/latest.json`). The seeded data:"),
        "",
        "| scale | seed (s) | staff | patients | courses | sessions | scores | assignments |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in (low, high):
        entry = results["scales"][key]
        counts = entry.get("counts", {})
        lines.append(
            f"| {key} | {entry.get('seed_seconds', 0):g} | "
            + " | ".join(
                _int(counts.get(name, 0))
                for name in ("staff", "patients", "courses", "sessions", "measures", "assignments")
            )
            + " |"
        )
    lines += [
        "",
        f"SQL time of one counted request per page (ms) and its slowest query, at scale {high}:",
        "",
        "| page | queries | SQL (ms) | slowest query (ms) |",
        "|---|---|---|---|",
    ]
    for row in results["pages"]:
        b = row.get(f"scale_{high}", {})
        if "p95_ms" not in b:
            continue
        slowest = b.get("slowest_queries") or []
        lines.append(
            f"| {row['label']} | {b['queries']} | {_ms(b['sql_ms_of_counted_request'])} | "
            f"{_ms(slowest[0]['ms']) if slowest else '–'} |"
        )
    machine = results.get("machine", {})
    lines += [
        "",
        _paragraph(
            f"Machine: {machine.get('cpus', '?')} CPUs ({machine.get('cpu') or '?'}), "
            f"{machine.get('platform', '?')}; load average before the pages "
            f"{results.get('load_average_before_pages', '?')}, after them "
            f"{results.get('load_average_after_pages', '?')}, at the end "
            f"{machine.get('load_average_at_end', '?')}."
        ),
    ]
    return "\n".join(lines)


BLOCKS = {"summary": summary, "detail": detail}


def render(results: dict) -> dict[str, str]:
    return {name: build(results) for name, build in BLOCKS.items()}


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block ``name`` holding ``body``; ReportError without its markers."""
    pattern = re.compile(
        re.escape(begin_marker(name)) + r"\n.*?" + re.escape(end_marker(name)), re.S
    )
    if len(pattern.findall(text)) != 1:
        raise ReportError(
            f"expected one pair of markers {begin_marker(name)} ... {end_marker(name)}"
        )
    return pattern.sub(lambda _: f"{begin_marker(name)}\n{body}\n{end_marker(name)}", text)


def published(text: str, name: str) -> str:
    """What the block ``name`` holds now."""
    pattern = re.compile(
        re.escape(begin_marker(name)) + r"\n(.*?)\n" + re.escape(end_marker(name)), re.S
    )
    found = pattern.findall(text)
    if len(found) != 1:
        raise ReportError(
            f"expected one pair of markers {begin_marker(name)} ... {end_marker(name)}"
        )
    return found[0]


def load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ReportError(f"{path} is not there: run make bench first") from None


def differences(results: dict, targets: dict[str, Path] = TARGETS) -> list[str]:
    """The blocks whose published text is not what ``results`` gives."""
    wanted = render(results)
    return [
        f"{path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path}: {name}"
        for name, path in targets.items()
        if published(path.read_text(), name) != wanted[name]
    ]


def write(results: dict, targets: dict[str, Path] = TARGETS) -> None:
    wanted = render(results)
    for name, path in targets.items():
        text = path.read_text()
        updated = replace_block(text, name, wanted[name])
        if updated != text:
            path.write_text(updated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="compare, change nothing")
    args = parser.parse_args(argv)
    try:
        results = load(args.results)
        if args.check:
            stale = differences(results)
            if stale:
                print("Published benchmark tables differ from " + str(args.results) + ":")
                print("\n".join(f"  {line}" for line in stale))
                print("Run: .venv/bin/python bench/report.py")
                return 1
            return 0
        write(results)
    except ReportError as error:
        print(f"bench/report.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
