"""A skipped test fails the run on CI and only there."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_suite_with_one_skip(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "from tests.foundation.skips import (  # noqa: F401\n"
        "    pytest_runtest_logreport, pytest_sessionfinish, pytest_terminal_summary)\n"
    )
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_passes():\n    assert True\n\n"
        "@pytest.mark.skip(reason='no service')\n"
        "def test_skipped():\n    pass\n"
    )
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_fails_a_run_with_a_skip_on_ci(tmp_path):
    result = _run_suite_with_one_skip(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout
    assert "1 skipped test(s) fail this run" in result.stdout
    assert "test_sample.py::test_skipped" in result.stdout


def test_it_lets_a_developer_skip_locally(tmp_path):
    result = _run_suite_with_one_skip(tmp_path, ci="")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
