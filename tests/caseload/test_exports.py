import csv
import io

from django.urls import reverse

from caseload.exports import safe_cell
from ipt_clinic.audit.models import AuditAction, AuditEvent
from phases.models import CourseStatus


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_it_exports_the_caseload_without_note_text_or_formulation(make, admin_client, therapist):
    course = make(therapist, unsigned_note_days_ago=3, open_risk=True, problem_area="grief")
    course.formulation = "Depression began after her father's death in March."
    course.sick_role_note = "Agreed to ease off the extra shifts."
    course.save()
    rows = _rows(admin_client.get(reverse("caseload:export_courses")))
    assert rows[0][0] == "record_number"
    assert len(rows) == 2
    text = "\n".join(",".join(row) for row in rows)
    assert course.patient.record_number in text
    assert "Grief" in text
    for secret in ("row with her sister", "impasse", "father's death", "extra shifts"):
        assert secret not in text


def test_it_audits_each_export(make, admin_client, clinic_admin, therapist):
    make(therapist)
    _rows(admin_client.get(reverse("caseload:export_courses"), {"phase": "problem_solving"}))
    _rows(admin_client.get(reverse("caseload:export_outcomes")))
    events = AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=clinic_admin)
    assert events.count() == 2
    assert all(event.clinic_id == clinic_admin.clinic_id for event in events)


def test_it_never_exports_another_clinics_patients(
    make, admin_client, other_admin_client, therapist, other_clinic_therapist
):
    mine = make(therapist, record_number="MINE-1")
    theirs = make(other_clinic_therapist, record_number="THEIRS-1")
    mine_rows = _rows(admin_client.get(reverse("caseload:export_courses")))
    assert [row[0] for row in mine_rows[1:]] == [mine.patient.record_number]
    # even when asked for the other clinic's therapist by id
    asked = _rows(
        admin_client.get(
            reverse("caseload:export_courses"), {"therapist": other_clinic_therapist.pk}
        )
    )
    assert asked[1:] == []
    theirs_rows = _rows(other_admin_client.get(reverse("caseload:export_courses")))
    assert [row[0] for row in theirs_rows[1:]] == [theirs.patient.record_number]


def test_it_exports_what_the_filters_select(make, admin_client, therapist, other_therapist):
    make(therapist, open_risk=True, record_number="RISK-1")
    make(therapist, record_number="CALM-1")
    make(other_therapist, open_risk=True, record_number="RISK-2")
    rows = _rows(
        admin_client.get(
            reverse("caseload:export_courses"), {"risk": "open", "therapist": therapist.pk}
        )
    )
    assert [row[0] for row in rows[1:]] == ["RISK-1"]


def test_it_defuses_spreadsheet_formulas(make, admin_client, therapist):
    make(therapist, first_name='=HYPERLINK("http://x")', last_name="+1", record_number="@R1")
    rows = _rows(admin_client.get(reverse("caseload:export_courses")))
    record, first, last = rows[1][:3]
    assert record == "'@R1"
    assert first.startswith("'=")
    assert last == "'+1"


def test_it_prefixes_every_dangerous_first_character():
    assert [safe_cell(v) for v in ["=1", "+1", "-1", "@a", "ok", 5, None]] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "ok",
        "5",
        "",
    ]


def test_it_exports_outcomes_with_small_cells_suppressed(make, admin_client, therapist):
    for _ in range(3):
        make(
            therapist,
            status=CourseStatus.COMPLETED,
            phase="completed",
            baseline=20,
            final=4,
            ended_days_ago=10,
        )
    rows = _rows(admin_client.get(reverse("caseload:export_outcomes")))
    clinic_row = next(row for row in rows if row[0] == "clinic")
    assert clinic_row[2] == "<5"
    assert clinic_row[4:] == ["—", "—", "—", "—", "—"]
    assert "20" not in ",".join(clinic_row)


def test_it_is_not_found_for_a_therapist(therapist_client):
    assert therapist_client.get(reverse("caseload:export_courses")).status_code == 404
    assert therapist_client.get(reverse("caseload:export_outcomes")).status_code == 404


def test_it_exports_the_wsas_beside_the_phq9(make, admin_client, therapist):
    course = make(therapist, record_number="W-1")
    course.baseline_wsas, course.latest_wsas = 26, 12
    course.save()
    make(therapist, record_number="W-2")  # no WSAS taken
    rows = _rows(admin_client.get(reverse("caseload:export_courses")))
    header = rows[0]
    assert header[header.index("latest_phq9_at") + 1 :][:2] == ["baseline_wsas", "latest_wsas"]
    by_record = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert (by_record["W-1"]["baseline_wsas"], by_record["W-1"]["latest_wsas"]) == ("26", "12")
    assert (by_record["W-2"]["baseline_wsas"], by_record["W-2"]["latest_wsas"]) == ("", "")
