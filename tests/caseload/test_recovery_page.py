"""The outcomes page's section "as services report them", and its CSV export."""

import csv
import io

from django.urls import reverse

from ipt_clinic.audit.models import AuditAction, AuditEvent
from tests.caseload.recovery_builders import ended_course


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_it_shows_each_rule_and_every_count_inside_the_clinic(admin_client, therapist):
    ended_course(therapist, phq9=[16, 5], gad7=[12, 4], area="grief")
    ended_course(therapist, phq9=[8, 15], area="grief")
    ended_course(therapist, phq9=[18])  # one scored session: not a finished course
    response = admin_client.get(reverse("caseload:outcomes"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Outcomes as services report them" in body
    assert "3 courses ended in the period; 2 are finished courses and counted below." in body
    for rule in (
        "PHQ-9 of 10 or more, or GAD-7 of 8 or more, at the first scored session.",
        "a case at the start, with PHQ-9 below 10 and GAD-7 below 8 at the last scored session",
        "PHQ-9 down by 6 or more, or GAD-7 down by 4 or more, and neither up by as much",
        "both recovery and reliable improvement",
        "PHQ-9 up by 6 or more, or GAD-7 up by 4 or more, and neither down by as much",
        "judged on the PHQ-9 alone",
    ):
        assert rule in body
    assert "Recovery (of cases)" in body
    assert "Reliable deterioration (of finished)" in body
    # Two courses, one case: small counts show here.
    assert "<td>1 of 1 (100%)</td>" in body
    assert "<td>1 of 2 (50%)</td>" in body
    assert "By primary problem area" in body


def test_it_audits_a_look_at_the_page_naming_the_patients_it_counts(
    admin_client, clinic_admin, therapist
):
    counted = ended_course(therapist, phq9=[16, 5])
    admin_client.get(reverse("caseload:outcomes"))
    event = AuditEvent.objects.get(action=AuditAction.VIEW, actor=clinic_admin)
    assert event.summary.startswith("Outcomes viewed")
    assert event.changes["patients_shown"] == [counted.patient_id]


def test_it_is_not_found_for_a_therapist(therapist_client, therapist):
    ended_course(therapist, phq9=[16, 5])
    assert therapist_client.get(reverse("caseload:outcomes")).status_code == 404
    assert therapist_client.get(reverse("caseload:export_recovery")).status_code == 404


def test_it_shows_another_clinics_admin_only_their_clinic(other_admin_client, therapist):
    ended_course(therapist, phq9=[16, 5])
    response = other_admin_client.get(reverse("caseload:outcomes"))
    assert response.context["recovery"].ended == 0
    assert therapist.display_name not in response.content.decode()
    rows = _rows(other_admin_client.get(reverse("caseload:export_recovery")))
    assert rows[1][:3] == ["clinic", "Clinic", "<5"]
    assert therapist.display_name not in "\n".join(",".join(row) for row in rows)


def test_it_exports_with_small_cells_suppressed_and_audits_it(
    admin_client, clinic_admin, therapist, other_therapist
):
    for _ in range(5):
        ended_course(therapist, phq9=[16, 4], area="grief")
    ended_course(other_therapist, phq9=[8, 15], area="role_dispute")
    rows = _rows(admin_client.get(reverse("caseload:export_recovery")))
    header = rows[0]
    assert header[:4] == ["breakdown", "group", "finished", "cases"]
    by_group = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows[1:]}
    clinic = by_group[("clinic", "Clinic")]
    assert clinic["finished"] == "6"
    assert clinic["recovered"] == "5"
    assert clinic["recovered_rate"] == "100%"
    assert clinic["reliably_deteriorated"] == "<5"
    assert clinic["reliably_deteriorated_rate"] == "—"
    bob = by_group[("therapist", other_therapist.display_name)]
    assert bob["finished"] == "<5"
    assert bob["reliably_improved_rate"] == "—"
    assert by_group[("primary_problem_area", "Grief")]["reliably_recovered"] == "5"
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=clinic_admin).count() == 1


def test_it_refuses_a_backwards_period_for_the_export(admin_client, clinic_admin):
    response = admin_client.get(
        reverse("caseload:export_recovery"), {"date_from": "2026-05-01", "date_to": "2026-01-01"}
    )
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
