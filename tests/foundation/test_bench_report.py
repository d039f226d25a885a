"""The benchmark figures the READMEs publish are those of the file the run wrote
(bench/results/latest.json), put there by bench/report.py between markers."""

import copy

import pytest

from bench import report


def _page(key, label, low, high, *, target_ms=25, target_ratio=1.5, **verdicts):
    ratio = round(high[1] / low[1], 2)
    row = {
        "key": key,
        "label": label,
        "target_p95_ms": target_ms,
        "target_ratio": target_ratio,
        "scale_1": {"p50_ms": low[0], "p95_ms": low[1], "queries": low[2]},
        "scale_100": {
            "p50_ms": high[0],
            "p95_ms": high[1],
            "queries": high[2],
            "sql_ms_of_counted_request": 2.5,
            "slowest_queries": [{"ms": 0.8, "sql": "SELECT 1"}],
        },
        "p95_ratio": ratio,
        "p95_ok": high[1] <= target_ms,
        "ratio_ok": ratio <= target_ratio,
        "queries_equal": low[2] == high[2],
    }
    row.update(verdicts)
    row["pass"] = row["p95_ok"] and row["ratio_ok"] and row["queries_equal"]
    return row


@pytest.fixture
def run():
    """A run as bench/run.py writes it (its keys; figures made up)."""
    counts = {"staff": 17, "patients": 274, "courses": 274, "sessions": 2776}
    big = {"staff": 801, "patients": 20074, "courses": 20074, "sessions": 205868}
    return {
        "started_at": "2027-01-04T10:02:00+00:00",
        "finished_at": "2027-01-04T10:09:30+00:00",
        "requests_per_page": 100,
        "rounds": 10,
        "load_average_before_pages": [0.9, 0.7, 0.5],
        "machine": {"cpus": 2, "cpu": "AMD EPYC", "postgresql": "15.20", "python": "3.12.1"},
        "scales": {
            "1": {"seed_seconds": 30.0, "counts": {**counts, "measures": 4322}},
            "100": {
                "seed_seconds": 700.0,
                "counts": {**big, "measures": 318102, "assignments": 47641},
                "dashboard_by_clinic_size": {
                    "large": {"patients": 5012, "p50_ms": 21.6, "p95_ms": 22.7, "queries": 9},
                    "small": {"patients": 50, "p50_ms": 9.4, "p95_ms": 10.7, "queries": 9},
                    "p95_ratio": 2.12,
                    "p95_ok": True,
                    "ratio_ok": True,
                },
                "notifications": {
                    "count": 10000,
                    "workers": 1,
                    "concurrency": 4,
                    "claim_and_enqueue": {"rate": 11273.4, "target_rate": 5000, "pass": True},
                    "delivery": {
                        "rate": 749.2,
                        "share_of_ceiling": 0.514,
                        "duplicates": 0,
                        "lost": 0,
                        "marked_sent": 10000,
                        "pass": True,
                    },
                    "noop_ceiling": {"rate": 1458.0},
                    "pass": True,
                },
            },
        },
        "pages": [
            _page("patient_page", "Patient page", (8.2, 10.4, 8), (8.5, 10.4, 8)),
            _page("session_page", "Session page", (9.5, 12.3, 8), (20.1, 31.0, 9)),
        ],
    }


@pytest.fixture
def readmes(tmp_path):
    """Two READMEs holding an old table between their markers, with text around it."""
    targets = {}
    for name in report.BLOCKS:
        path = tmp_path / f"{name}.md"
        path.write_text(
            f"# Before\n\n{report.begin_marker(name)}\n| an old table |\n{report.end_marker(name)}\n\nAfter.\n"
        )
        targets[name] = path
    return targets


def test_it_publishes_the_figures_of_the_latest_run():
    assert report.differences(report.load(report.RESULTS)) == [], (
        "README.md or bench/README.md does not show bench/results/latest.json: "
        "run .venv/bin/python bench/report.py"
    )


def test_it_writes_each_table_between_its_markers(run, readmes):
    report.write(run, readmes)

    summary = readmes["summary"].read_text()
    assert summary.startswith("# Before\n\n<!-- bench/report.py: summary -->\nRun of 4 January")
    assert summary.endswith("<!-- /bench/report.py: summary -->\n\nAfter.\n")
    assert "an old table" not in summary
    assert "| Patient page | 8.2 / 10.4 | 8.5 / 10.4 | 8 / 8 | 1.00 | ≤ 25 ms, ≤ 1.5× | pass |" in (
        summary
    )
    prose = " ".join(summary.split())  # paragraphs are wrapped
    assert "5,012 patients p50 21.6 / p95 22.7 ms (9 queries)" in prose
    assert "delivery 749/s against a no-op ceiling of 1,458/s, 51% (target 50%: pass)" in prose
    detail = readmes["detail"].read_text()
    assert "| 100 | 700 | 801 | 20,074 | 20,074 | 205,868 | 318,102 | 47,641 |" in detail
    assert "| Patient page | 8 | 2.5 | 0.8 |" in detail
    assert report.differences(run, readmes) == []

    unchanged = {name: path.read_text() for name, path in readmes.items()}
    report.write(run, readmes)
    assert {name: path.read_text() for name, path in readmes.items()} == unchanged


def test_it_names_each_missed_target(run, readmes):
    report.write(run, readmes)
    summary = readmes["summary"].read_text()
    assert (
        "| Session page | 9.5 / 12.3 | 20.1 / 31.0 | 8 / 9 | 2.52 | ≤ 25 ms, ≤ 1.5× | "
        "**FAIL** (p95 over target, ratio over target, queries differ) |"
    ) in summary


def test_it_finds_a_published_table_the_run_does_not_give(run, readmes):
    report.write(run, readmes)
    later = copy.deepcopy(run)
    later["scales"]["100"]["notifications"]["delivery"]["lost"] = 3
    assert report.differences(later, readmes) == [f"{readmes['summary']}: summary"]


def test_it_refuses_a_readme_without_its_markers(run, readmes):
    readmes["detail"].write_text("# No markers here\n")
    with pytest.raises(report.ReportError, match="bench/report.py: detail"):
        report.write(run, readmes)


def test_it_says_when_the_machine_was_busy(run):
    assert "The machine was busy" not in report.summary(run)  # load average 0.9 on 2 CPUs
    run["load_average_before_pages"] = [6.4, 5.0, 3.1]
    prose = " ".join(report.summary(run).split())
    assert "busy with other work (load average 6.4 on 2 CPUs" in prose


def _http(dashboard_low, dashboard_high, list_low, list_high):
    """The HTTP pass as bench/http_pass.py writes it: (p50, p95, bytes) per scale."""

    def scale(p50, p95, size):
        return {"p50_ms": p50, "p95_ms": p95, "bytes": size, "requests": 100, "statuses": [200]}

    def row(key, label, low, high):
        ratio = round(high[1] / low[1], 2)
        return {
            "key": key,
            "label": label,
            "scale_1": scale(*low),
            "scale_100": scale(*high),
            "p95_ok": high[1] <= 50,
            "bytes_ok": high[2] <= 200_000,
            "p95_ratio": ratio,
            "ratio_ok": ratio <= 1.5,
            "pass": high[1] <= 50 and high[2] <= 200_000 and ratio <= 1.5,
        }

    return {
        "server": "gunicorn, 2 sync workers, production settings, loopback",
        "requests_per_page": 100,
        "targets": {"p95_ms": 50, "bytes": 200_000, "ratio": 1.5},
        "clinics": {
            "1": {"clinic": "demo-southbank", "clinic_name": "Southbank", "patients": 162},
            "100": {"clinic": "demo-southbank", "clinic_name": "Southbank", "patients": 15012},
        },
        "pages": [
            row("dashboard", "Clinic dashboard", dashboard_low, dashboard_high),
            row("patient_list", "Patient list", list_low, list_high),
        ],
    }


def test_it_publishes_the_http_pass_of_the_largest_clinic(run, readmes):
    run["http"] = _http((9.1, 12.0, 40_000), (10.2, 14.5, 71_000), (6.0, 8.0, 11_000),
                        (7.5, 61.0, 1_172_000))  # fmt: skip
    report.write(run, readmes)
    summary = readmes["summary"].read_text()
    prose = " ".join(summary.split())
    assert "Over HTTP (gunicorn, 2 sync workers, production settings, loopback)" in prose
    assert "Southbank: 162 patients at scale 1 and 15,012 patients at scale 100" in prose
    assert (
        "| Clinic dashboard | 9.1 / 12.0, 40 KB | 10.2 / 14.5, 71 KB | 1.21 | "
        "≤ 50 ms, ≤ 200 KB, ≤ 1.5× | pass |"
    ) in summary
    assert (
        "| Patient list | 6.0 / 8.0, 11 KB | 7.5 / 61.0, 1,172 KB | 7.62 | ≤ 50 ms, ≤ 200 KB, "
        "≤ 1.5× | **FAIL** (p95 over target, size over target, ratio over target) |"
    ) in summary
    assert report.differences(run, readmes) == []


def test_it_says_when_the_http_pass_could_not_run(run):
    run["http"] = {"not_available": "error: RuntimeError: gunicorn stopped"}
    assert "HTTP pass: not available (error: RuntimeError: gunicorn stopped)." in report.summary(
        run
    )
    del run["http"]
    assert "HTTP" not in report.summary(run)
