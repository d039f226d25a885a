"""bandit finds nothing in the project's code (tests and migrations aside). A finding is
fixed, or marked ``# nosec <test id>`` on its line with the reason in the comment beside it."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["ipt_clinic", "patients", "phases", "sessions", "portal", "caseload", "demo"]


def test_it_finds_no_security_issue_in_the_project_code():
    bandit = Path(sys.executable).with_name("bandit")
    assert bandit.exists(), f"bandit is not installed beside {sys.executable} (make install)"
    result = subprocess.run(
        [str(bandit), "-r", *PACKAGES, "-x", "*/migrations/*,*/tests/*", "-q", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert not findings, "bandit findings:\n" + "\n".join(findings)
    assert not report["errors"], report["errors"]
    assert result.returncode == 0, result.stderr[-2000:]
    # It really read the project: thousands of lines, not an empty selection.
    assert report["metrics"]["_totals"]["loc"] > 5000
