"""The front door: once `make run`'s web app and worker have started, after the worker's banner
and start-up log, scripts/run-demo.sh prints the address, one login per role and the demo
patient's portal link again (seed_demo printed them before, and the logs pushed them off the
screen); beat's routine rounds stay out of the terminal."""

import os
import re
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.foundation.helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
RULE = "  " + "-" * 84


def _manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.slow
def test_it_prints_the_address_logins_and_portal_link_after_the_worker_is_ready(
    redis_url, tmp_path
):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "VENV": str(Path(sys.executable).parent.parent),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "REDIS_URL": redis_url,
        "MFA_REQUIRED": "false",
        "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
    }
    env.pop("SITE_URL", None)
    _manage(env, "migrate", "--noinput")
    _manage(env, "seed_demo")
    env.pop("DJANGO_SETTINGS_MODULE")
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        script = subprocess.Popen(
            ["bash", "scripts/run-demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for(lambda: log_path.read_text().count(RULE) >= 2, timeout=120), (
            log_path.read_text()
        )
        output = log_path.read_text()
        block = output.split(RULE)[1]
        # After everything has started: the worker's banner and "ready" come before.
        assert "ready." in output.split(RULE)[0]
        assert f"IPT Clinic is running at http://127.0.0.1:{port}" in block
        assert re.search(r"Therapist: +north\.anna +password demo-password-2026", block)
        assert re.search(r"Clinic admin: +north\.admin +password demo-password-2026", block)
        link = re.search(rf"http://127\.0\.0\.1:{port}/p/[\w-]+/", block)
        assert link and "Margaret Doyle" in block
        portal = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with portal.open(link.group(0), timeout=10) as response:
            assert response.status == 200
            [csrf] = re.findall(
                r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()
            )
        # The link's "Open my page" button; its redirect leads to her page.
        button = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf}).encode()
        with portal.open(link.group(0), button, timeout=10) as response:
            assert response.status == 200
            assert b"Margaret" in response.read()
        assert "sweep_stuck_notifications" not in output
    finally:
        script.send_signal(signal.SIGINT)
        try:
            script.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(script.pid, signal.SIGKILL)
            raise
