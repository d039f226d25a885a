"""The caseload export's audit event records the filters the form accepted, nothing else
from the address: a NUL byte there used to reach PostgreSQL's jsonb (which refuses it) and
answer 500."""

import pytest
from django.test import Client
from django.urls import reverse

from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _export(client: Client, query: dict):
    response = client.get(reverse("caseload:export_courses"), query)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    return AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("pk")


def test_it_audits_the_filters_it_applied_and_nothing_else(clinic_admin):
    client = login(Client(), clinic_admin)
    event = _export(client, {"status": "active", "utm": "a\x00b"})
    assert event.changes == {"filters": {"status": "active"}}


def test_it_leaves_a_refused_filter_out_of_the_audit(clinic_admin):
    client = login(Client(), clinic_admin)
    event = _export(client, {"phase": "a\x00b", "status": "active"})
    assert event.changes == {"filters": {"status": "active"}}
