"""The small demo seeded once for the module at a fixed instant (rolled back after), and the
round trip: every exported resource parsed back and compared with the database."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

SEEDED_AT = datetime(2026, 12, 14, 0, 30, tzinfo=UTC)  # tests/clock.py's "monday-0030"


@pytest.fixture(scope="module")
def demo_seeded(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        time_machine.travel(SEEDED_AT, tick=False),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield SEEDED_AT
        transaction.set_rollback(True)


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.FHIR_EXPORT_DIR = tmp_path / "fhir-exports"
    return settings.FHIR_EXPORT_DIR
