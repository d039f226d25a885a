"""The demo's clinic at --scale 1 (its four stories, the background patients and the generated
ones) exported by the bulk task to the end: every line of every file valid, every reference
resolved, and every course's resources round-tripped against the database."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from interop.fhir import unresolved_references
from interop.models import BulkExport
from interop.tasks import run_bulk_export
from ipt_clinic.accounts.models import Clinic, User
from phases.models import TreatmentCourse

from .bulk import read_export, resources_of_course
from .roundtrip import compare_course

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as in a worker

SEEDED_AT = datetime(2026, 12, 14, 0, 30, tzinfo=UTC)  # tests/clock.py's "monday-0030"


def test_the_demo_clinic_at_scale_1_exports_to_the_end(export_dir):
    with time_machine.travel(SEEDED_AT, tick=False):
        call_command("seed_demo", scale=1, stdout=StringIO())
        clinic = Clinic.objects.get(slug="demo-northgate")
        admin = User.objects.get(username="north.admin")
        job = BulkExport.objects.create(clinic=clinic, requested_by=admin, created_at=SEEDED_AT)
        assert run_bulk_export.apply(args=[job.pk]).get() == "done"
    job.refresh_from_db()
    courses = TreatmentCourse.objects.filter(clinic=clinic)
    assert job.courses_done == job.courses_total == courses.count() > 50

    found = read_export(job)
    assert {kind: len(resources) for kind, resources in found.items()} == job.counts
    everything = [r for resources in found.values() for r in resources]
    assert unresolved_references(everything, bundle=False) == []
    for course in courses.select_related("patient", "clinic"):
        compare_course(course, resources_of_course(found, course))
