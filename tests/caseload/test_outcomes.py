from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from caseload.outcomes import outcomes_for_clinic
from phases.models import CourseStatus, Phase
from tests.factories import CourseFactory


def _completed(make, therapist, baseline, final, *, days_ago=10, area="grief"):
    return make(
        therapist,
        status=CourseStatus.COMPLETED,
        phase=Phase.COMPLETED,
        baseline=baseline,
        final=final,
        ended_days_ago=days_ago,
        problem_area=area,
    )


def _period(clinic):
    today = timezone.now().astimezone(clinic.tz).date()
    return today - timedelta(days=60), today


def test_it_computes_medians_and_rates_for_groups_of_five_or_more(
    make, clinic, therapist, other_therapist
):
    # Alice: six completed; responders (>=50% drop): 20->8, 18->4, 16->8; remission (<5): 18->4
    for baseline, final in [(20, 8), (18, 4), (16, 8), (22, 15), (14, 12), (20, 11)]:
        _completed(make, therapist, baseline, final)
    for _ in range(2):
        make(
            therapist,
            status=CourseStatus.DROPPED_OUT,
            phase=Phase.PROBLEM_SOLVING,
            ended_days_ago=5,
            baseline=19,
        )
    # Bob: two completed only
    _completed(make, other_therapist, 25, 2, area="role_dispute")
    _completed(make, other_therapist, 25, 2, area="role_dispute")

    report = outcomes_for_clinic(clinic.pk, clinic.tz, *_period(clinic))
    alice = next(g for g in report.by_therapist if g.label == therapist.display_name)
    assert alice.completed_cell == "6"
    assert alice.median_baseline == 19
    assert alice.median_final == 9.5
    assert alice.response_rate == 3 / 6
    assert alice.remission_rate == 1 / 6
    assert alice.dropped_out_cell == "<5"
    # The rate beside the completed count would give the two dropouts back: hidden too.
    assert alice.dropout_rate is None
    assert alice.as_row()["dropout_rate"] == "—"

    bob = next(g for g in report.by_therapist if g.label == other_therapist.display_name)
    assert bob.completed_cell == "<5"
    assert bob.suppressed
    assert bob.as_row()["median_baseline_phq9"] == "—"
    assert bob.as_row()["response_rate"] == "—"

    grief = next(g for g in report.by_problem_area if g.label == "Grief")
    assert grief.completed_cell == "6"
    dispute = next(g for g in report.by_problem_area if g.label == "Role dispute")
    assert dispute.completed_cell == "<5"
    assert dispute.median_final is None

    assert report.clinic.completed_cell == "8"
    assert report.clinic.remission_rate == 3 / 8


def test_it_counts_patients_not_courses_for_suppression(make, clinic, therapist):
    first = _completed(make, therapist, 20, 5)
    for _ in range(4):
        # the same patient's later courses do not make a group of five people
        CourseFactory(
            patient=first.patient,
            status=CourseStatus.COMPLETED,
            phase=Phase.COMPLETED,
            baseline_phq9=20,
            latest_phq9=5,
            ended_at=first.ended_at,
        )
    report = outcomes_for_clinic(clinic.pk, clinic.tz, *_period(clinic))
    assert len(report.clinic.completed) == 5
    assert report.clinic.completed_cell == "<5"
    assert report.clinic.median_baseline is None


def test_it_keeps_to_the_period(make, clinic, therapist):
    for _ in range(5):
        _completed(make, therapist, 20, 5, days_ago=10)
    for _ in range(5):
        _completed(make, therapist, 20, 5, days_ago=200)
    report = outcomes_for_clinic(clinic.pk, clinic.tz, *_period(clinic))
    assert report.clinic.completed_cell == "5"


def test_it_never_counts_another_clinics_courses(
    make, clinic, therapist, other_clinic_therapist, other_admin_client
):
    for _ in range(5):
        _completed(make, other_clinic_therapist, 20, 2)
    report = outcomes_for_clinic(clinic.pk, clinic.tz, *_period(clinic))
    assert report.clinic.courses == []
    response = other_admin_client.get(reverse("caseload:outcomes"))
    assert response.context["report"].clinic.completed_cell == "5"


def test_it_shows_suppressed_cells_on_the_page(make, admin_client, therapist):
    for _ in range(3):
        _completed(make, therapist, 20, 5)
    response = admin_client.get(reverse("caseload:outcomes"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "&lt;5" in body
    assert "fewer than 5 patients — not shown" in body
    assert "<svg" in body and "<title" in body


def test_it_draws_charts_with_labels_for_groups_of_five(make, admin_client, therapist):
    for _ in range(5):
        _completed(make, therapist, 20, 4)
    body = admin_client.get(reverse("caseload:outcomes")).content.decode()
    assert f"{therapist.display_name} · baseline" in body
    assert f"{therapist.display_name} · remission" in body
    assert "100%" in body


def test_it_rejects_a_backwards_period(admin_client):
    response = admin_client.get(
        reverse("caseload:outcomes"), {"date_from": "2026-05-01", "date_to": "2026-01-01"}
    )
    assert response.status_code == 200
    assert response.context["report"] is None
    assert reverse("caseload:export_outcomes") not in response.content.decode()


def test_it_shows_the_dropout_rate_once_five_patients_dropped_out(make, clinic, therapist):
    for baseline, final in [(20, 8), (18, 4), (16, 8), (22, 15), (14, 12)]:
        _completed(make, therapist, baseline, final)
    for _ in range(5):
        make(
            therapist,
            status=CourseStatus.DROPPED_OUT,
            phase=Phase.PROBLEM_SOLVING,
            ended_days_ago=5,
            baseline=19,
        )

    report = outcomes_for_clinic(clinic.pk, clinic.tz, *_period(clinic))
    group = next(g for g in report.by_therapist if g.label == therapist.display_name)
    assert group.dropped_out_cell == "5"
    assert group.dropout_rate == 5 / 10
    assert group.as_row()["dropout_rate"] == "50%"


def test_it_fills_the_period_in_the_date_boxes(admin_client, clinic):
    # A date box takes only an ISO date: anything else shows as empty and blocks "Show".
    start, end = _period(clinic)
    body = admin_client.get(
        reverse("caseload:outcomes"), {"date_from": start.isoformat(), "date_to": end.isoformat()}
    ).content.decode()
    assert f'name="date_from" value="{start.isoformat()}"' in body
    assert f'name="date_to" value="{end.isoformat()}"' in body
    default = admin_client.get(reverse("caseload:outcomes")).content.decode()
    assert f'name="date_to" value="{end.isoformat()}"' in default
