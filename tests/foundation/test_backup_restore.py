"""Backup and restore as the README's "Backup and restore" section does it, end to end, with
the commands of its block as written: a seeded database dumped with ``pg_dump -Fc``,
restored with ``pg_restore`` into a new database, ``migrate`` finding nothing to apply, the app started on the restore serving a
patient page, and the outbox resuming without sending again what it had sent: the sent rows
stay sent and a row that was pending goes out once.

Everything runs in a PostgreSQL cluster, a redis-server and an SMTP receiver of the test's
own; the test database of the run is not used, so it runs the same on either database."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import psycopg
import pytest

from notifications.content import message_id
from notifications.models import Notification
from tests.notifications.harness import (
    ROOT,
    CeleryProcesses,
    PostgresCluster,
    RedisServer,
    SmtpReceiver,
    free_port,
    manage,
    wait_until,
)

pytestmark = pytest.mark.slow

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the demo's published password


def _readme_commands() -> str:
    """The shell block of the README's "Backup and restore" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Backup and restore", 1)
    assert len(section) == 2, "the README has no Backup and restore section"
    [block] = re.findall(r"```sh\n(.*?)```", section[1], re.DOTALL)[:1]
    assert "pg_dump" in block and "pg_restore" in block
    return block


def _due_now_and_sent(database: str) -> tuple[str, list[str]]:
    """Make one pending e-mail reminder of the seed due now (its session is still ahead);
    return its dedupe key and those of the rows already sent."""
    with psycopg.connect(database, autocommit=True) as db:
        [key] = db.execute(
            "UPDATE notifications_notification SET due_at = now() - interval '1 minute'"
            " WHERE id = (SELECT id FROM notifications_notification"
            "   WHERE status = 'pending' AND channel = 'email' AND kind = 'session_reminder'"
            "   ORDER BY due_at, id LIMIT 1)"
            " RETURNING dedupe_key"
        ).fetchone()
        sent = [row[0] for row in db.execute(
            "SELECT dedupe_key FROM notifications_notification WHERE status = 'sent'"
        )]  # fmt: skip
    return key, sent


def _patient_page(base: str, database: str) -> str:
    """Log in as a demo therapist (MFA is off) and open one of her patients' pages."""
    with psycopg.connect(database) as db:
        patient_id, last_name = db.execute(
            "SELECT p.id, p.last_name FROM patients_patient p"
            " JOIN accounts_user u ON u.id = p.primary_therapist_id"
            " WHERE u.username = 'north.anna' ORDER BY p.record_number LIMIT 1"
        ).fetchone()
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(f"{base}/accounts/login/", timeout=30).read().decode()
    [csrf] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    fields = {"csrfmiddlewaretoken": csrf, "login": "north.anna", "password": DEMO_PASSWORD}
    browser.open(f"{base}/accounts/login/", urllib.parse.urlencode(fields).encode(), timeout=30)
    with browser.open(f"{base}/patients/{patient_id}/", timeout=30) as page:
        assert page.status == 200
        body = page.read().decode()
    assert last_name in body
    return body


def _serve(database: str, port: int, log) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="ipt_clinic.settings.local",
        DATABASE_URL=database,
        MFA_REQUIRED="false",
        DEBUG="false",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our loopback
            return response.status == 200
    except OSError:
        return False


def test_it_restores_a_dump_that_serves_the_app_and_resumes_the_outbox(tmp_path):
    cluster = PostgresCluster().start()
    redis = RedisServer(tmp_path).start()
    receiver = SmtpReceiver().start()
    web = processes = None
    web_log = (tmp_path / "web.log").open("wb")
    try:
        source = cluster.create_database("ipt_clinic")
        manage(source, "migrate", "-v", "0")
        manage(source, "seed_demo")
        pending_key, sent_keys = _due_now_and_sent(source)
        assert sent_keys, "the seed leaves sent reminders behind"

        # The backup, and the restore into a new database: the README's commands.
        restored = cluster.url("ipt_clinic_restored")
        subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _readme_commands()],
            cwd=tmp_path,
            env={**os.environ, "DATABASE_URL": source, "RESTORED_URL": restored},
            check=True,
        )
        assert (tmp_path / "ipt_clinic.dump").stat().st_size > 0
        assert "No migrations to apply." in manage(restored, "migrate")

        # The app, started on the restore, serves a patient page.
        port = free_port()
        web = _serve(restored, port, web_log)
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 60, 0.2, "the app")
        _patient_page(f"http://127.0.0.1:{port}", restored)

        # The outbox resumes on the restore: the pending row goes once, nothing sent goes again.
        processes = CeleryProcesses(
            database=restored,
            broker=redis.url,
            mail=receiver.url,
            log_dir=tmp_path,
            DISPATCH_INTERVAL_SECONDS=1,
        )
        processes.beat("beat")
        processes.worker("worker", concurrency=2)
        pending_id = message_id(Notification(dedupe_key=pending_key))
        wait_until(lambda: pending_id in receiver.accepted, 60, 0.2, "the pending reminder")
        time.sleep(3)  # a few more dispatch rounds
        assert dict(receiver.accepted) == {pending_id: 1}, processes.logs()
        with psycopg.connect(restored) as db:
            still_sent = {
                key
                for (key,) in db.execute(
                    "SELECT dedupe_key FROM notifications_notification WHERE status = 'sent'"
                )
            }
        assert still_sent == {*sent_keys, pending_key}
    finally:
        if processes is not None:
            processes.stop_all()
        if web is not None and web.poll() is None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(20)
        web_log.close()
        receiver.stop()
        redis.stop()
        cluster.stop()
