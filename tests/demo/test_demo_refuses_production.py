"""Demo accounts never reach a production database: seed_demo, demo_logins and the making of
demo staff refuse under production settings, with a clear message and a failing exit."""

import os
import secrets
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError

from demo import clinics, seed
from demo.guard import DemoRefused
from ipt_clinic.accounts.models import Clinic, User

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_every_way_to_demo_accounts_refuses_under_production_settings(settings):
    settings.DEMO_DATA_ALLOWED = False
    for command in ("seed_demo", "demo_logins"):
        with pytest.raises(CommandError, match="never written to a production database"):
            call_command(command, stdout=StringIO())
    with pytest.raises(DemoRefused):
        seed.seed_demo()
    clinic = Clinic.objects.create(name="Real Clinic", slug="real")
    with pytest.raises(DemoRefused):
        clinics.ensure_staff(clinic, clinics.NORTHGATE.staff, make_password("x"))
    assert not User.objects.exists()


@pytest.mark.slow
def test_seed_demo_with_the_production_settings_module_exits_non_zero(tmp_path):
    database = tmp_path / "production.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": f"sqlite:///{database}",
    }
    env.pop("MIGRATE_DATABASE_URL", None)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert manage("migrate", "-v", "0").returncode == 0
    for command in ("seed_demo", "demo_logins"):
        refused = manage(command)
        assert refused.returncode == 1, refused.stdout
        assert "Refused: the demo data" in refused.stderr
        assert "DJANGO_SETTINGS_MODULE=ipt_clinic.settings.production" in refused.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM accounts_user").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM accounts_clinic").fetchone() == (0,)
