"""Take the README's screenshots of the demo: Playwright driving Debian's Chromium (or
CHROMIUM_PATH), staff pages at 1366 px, the patient portal at 390 px (a phone).

    .venv/bin/python docs/screenshots/take.py

It seeds the demo into a database of its own (a temporary SQLite file), serves it on a free
loopback port and writes docs/screenshots/*.png; nothing else is touched.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
STAFF = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - this project's manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _wait_for(url: str) -> None:
    for _ in range(120):
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} never answered")


def main() -> None:
    port = _free_port()
    address = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
            "DATABASE_URL": f"sqlite:///{workdir}/demo.sqlite3",
            "MFA_REQUIRED": "false",
            "SITE_URL": address,
        }
        env.pop("REDIS_URL", None)
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo")
        logins = _manage(env, "demo_logins")
        portal_link = re.search(r"http://\S+/p/\S+/", logins).group(0)
        # Rachel Kemp's course: its sessions-and-scores page shows her open risk flag.
        risk_course = int(
            _manage(
                env,
                "shell",
                "--no-imports",
                "-c",
                "from phases.models import TreatmentCourse; print(TreatmentCourse.objects.get("
                "patient__record_number='NG-0002').pk)",
            )
        )
        server = subprocess.Popen(  # noqa: S603 - this project's manage.py
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(f"{address}/healthz")
            _shoot(address, portal_link, risk_course)
        finally:
            server.terminate()
            server.wait(timeout=20)


def _shoot(address: str, portal_link: str, risk_course: int) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        staff = browser.new_page(viewport=STAFF, base_url=address)
        staff.goto("/accounts/login/")
        staff.get_by_label("Username or email").fill("north.anna")
        staff.get_by_label("Password").fill("demo-password-2026")
        staff.get_by_role("button", name="Log in").click()
        staff.wait_for_load_state("networkidle")
        staff.screenshot(path=OUT / "therapist-home.png")
        staff.goto(f"/sessions/course/{risk_course}/")
        staff.wait_for_load_state("networkidle")
        staff.screenshot(path=OUT / "risk-flag.png")

        phone = browser.new_page(viewport=PHONE, is_mobile=True)
        phone.goto(portal_link)
        phone.wait_for_load_state("networkidle")
        phone.screenshot(path=OUT / "portal-phone.png")
        browser.close()


if __name__ == "__main__":
    main()
