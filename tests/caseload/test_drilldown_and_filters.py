from django.urls import reverse

from phases.models import CourseStatus, Phase
from sessions.models import Measure


def _listed(response) -> set[int]:
    """The courses a drill-down lists (the risk flags' courses for the open-risk figure)."""
    return {
        item.course_id if isinstance(item, Measure) else item.pk
        for item in response.context["page"].object_list
    }


def test_it_lists_the_patients_behind_a_number(
    make, admin_client, therapist, other_therapist, other_clinic_therapist
):
    flagged = make(therapist, open_risk=True)
    make(therapist)
    bobs = make(other_therapist, open_risk=True)
    make(other_clinic_therapist, open_risk=True)
    url = reverse("caseload:drilldown")

    response = admin_client.get(url, {"metric": "risk_open", "therapist": therapist.pk})
    assert _listed(response) == {flagged.pk}

    response = admin_client.get(url, {"metric": "risk_open"})
    assert _listed(response) == {flagged.pk, bobs.pk}


def test_it_lists_the_no_show_patients_of_the_session_therapist(
    make, admin_client, therapist, other_therapist
):
    missed = make(therapist, no_show_days_ago=(10,), attended_days_ago=(3,))
    make(therapist, attended_days_ago=(3,))
    response = admin_client.get(
        reverse("caseload:drilldown"), {"metric": "no_show_rate", "therapist": therapist.pk}
    )
    assert _listed(response) == {missed.pk}
    response = admin_client.get(
        reverse("caseload:drilldown"), {"metric": "no_show_rate", "therapist": other_therapist.pk}
    )
    assert _listed(response) == set()


def test_it_refuses_an_unknown_figure(admin_client):
    response = admin_client.get(reverse("caseload:drilldown"), {"metric": "everything"})
    assert response.status_code == 404


def test_it_lists_nothing_for_another_clinics_therapist(make, admin_client, other_clinic_therapist):
    make(other_clinic_therapist, open_risk=True)
    response = admin_client.get(
        reverse("caseload:drilldown"),
        {"metric": "risk_open", "therapist": other_clinic_therapist.pk},
    )
    assert response.status_code == 200
    assert _listed(response) == set()
    assert response.context["filters"] is None


def test_it_combines_filters(make, admin_client, therapist, other_therapist):
    match = make(therapist, phase=Phase.SOCIAL, problem_area="grief", open_risk=True)
    make(therapist, phase=Phase.SOCIAL, problem_area="grief")  # no risk flag
    make(therapist, phase=Phase.SOCIAL, problem_area="role_dispute", open_risk=True)
    make(therapist, phase=Phase.INITIAL, problem_area="grief", open_risk=True)
    make(other_therapist, phase=Phase.SOCIAL, problem_area="grief", open_risk=True)
    make(
        therapist,
        phase=Phase.SOCIAL,
        problem_area="grief",
        open_risk=True,
        status=CourseStatus.DROPPED_OUT,
    )
    response = admin_client.get(
        reverse("caseload:courses"),
        {"therapist": therapist.pk, "phase": "social", "problem_area": "grief", "risk": "open"},
    )
    assert _listed(response) == {match.pk}

    response = admin_client.get(
        reverse("caseload:courses"),
        {"therapist": therapist.pk, "phase": "social", "problem_area": "grief", "risk": "none"},
    )
    assert len(_listed(response)) == 1 and match.pk not in _listed(response)


def test_it_keeps_the_filters_in_the_page_links(make, admin_client, therapist, other_therapist):
    mine = {make(therapist, phase=Phase.SOCIAL).pk for _ in range(55)}
    make(other_therapist, phase=Phase.SOCIAL)
    make(therapist, phase=Phase.INITIAL)
    query = {"therapist": therapist.pk, "phase": "social"}
    first = admin_client.get(reverse("caseload:courses"), query)
    assert first.context["page"].paginator.count == 55
    next_link = f"?therapist={therapist.pk}&amp;phase=social&amp;page=2"
    assert next_link in first.content.decode()

    second = admin_client.get(reverse("caseload:courses"), {**query, "page": 2})
    assert len(_listed(second)) == 5
    assert _listed(first) | _listed(second) == mine
    assert f"?therapist={therapist.pk}&amp;phase=social&amp;page=1" in second.content.decode()


def test_it_lists_only_the_admins_clinic(make, admin_client, therapist, other_clinic_therapist):
    mine = make(therapist, phq9_days_ago=2, baseline=18, final=11)
    theirs = make(other_clinic_therapist)
    response = admin_client.get(reverse("caseload:courses"))
    assert _listed(response) == {mine.pk}
    body = response.content.decode()
    assert "18 → 11" in body
    assert mine.patient.record_number in body
    assert theirs.patient.record_number not in body


def test_it_is_not_found_for_a_therapist(therapist_client):
    assert therapist_client.get(reverse("caseload:courses")).status_code == 404
    assert (
        therapist_client.get(reverse("caseload:drilldown"), {"metric": "active"}).status_code == 404
    )


def test_it_lists_courses_past_their_planned_sessions(make, admin_client, therapist):
    done = make(therapist, planned=8, attended_days_ago=range(1, 9))
    make(therapist, planned=8, attended_days_ago=range(1, 8))
    response = admin_client.get(
        reverse("caseload:drilldown"), {"metric": "past_planned", "therapist": therapist.pk}
    )
    assert _listed(response) == {done.pk}
    assert "8 / 8" in response.content.decode()


def test_it_lists_open_risk_flags_oldest_first_with_their_age(
    make, admin_client, clinic, therapist, other_therapist
):
    """The risk drill-down lists each open flag with its age, oldest first, marked once it is
    past the clinic's escalation window (4 hours by default)."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from sessions.models import Measure

    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        flags = {}
        raised = (("Recent", therapist, 1), ("Old", other_therapist, 30), ("Edge", therapist, 4))
        for name, therapist_of, hours in raised:
            course = make(therapist_of, first_name=name)
            flags[name] = Measure.objects.create(
                clinic=course.clinic,
                course=course,
                instrument="phq9",
                answers=[0] * 8 + [1],
                total=1,
                severity="minimal",
                risk_flag=True,
                taken_at=now,
            )
            Measure.objects.filter(pk=flags[name].pk).update(
                created_at=now - timedelta(hours=hours, minutes=1 if name == "Edge" else 0)
            )
        response = admin_client.get(reverse("caseload:drilldown"), {"metric": "risk_open"})
    listed = response.context["page"].object_list
    assert [flag.pk for flag in listed] == [flags["Old"].pk, flags["Edge"].pk, flags["Recent"].pk]
    assert [flag.age_text for flag in listed] == ["1 d 6 h", "4 h 1 min", "1 h"]
    assert [flag.overdue for flag in listed] == [True, True, False]
    body = response.content.decode()
    assert body.count('class="risk-flag-overdue"') == 2
    assert "past window" in body
    assert "Back to the dashboard" in body
    # Each flag opens on its own page, where it is acknowledged and closed; an acknowledged
    # flag is still open, and says who acknowledged it.
    assert reverse("therapy:risk_flag", args=[flags["Old"].pk]) in body
    assert body.count("Not yet") == 3
    from sessions.risk import risk_flag_acknowledge

    with time_machine.travel(now, tick=False):
        risk_flag_acknowledge(measure=flags["Old"], by=other_therapist)
        body = admin_client.get(reverse("caseload:drilldown"), {"metric": "risk_open"}).content
    assert body.decode().count("Not yet") == 2
    assert "Wed 25 Nov, 14:00 by Bob Quinn" in body.decode()


def test_it_marks_flags_by_the_clinics_own_escalation_window(make, admin_client, clinic, therapist):
    from datetime import UTC, datetime, timedelta

    import time_machine

    from sessions.models import Measure

    clinic.escalation_minutes = 60
    clinic.save()
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        course = make(therapist)
        flag = Measure.objects.create(
            clinic=clinic,
            course=course,
            instrument="phq9",
            answers=[0] * 8 + [1],
            total=1,
            severity="minimal",
            risk_flag=True,
            taken_at=now,
        )
        Measure.objects.filter(pk=flag.pk).update(created_at=now - timedelta(minutes=90))
        listed = admin_client.get(reverse("caseload:drilldown"), {"metric": "risk_open"})
        board = admin_client.get(reverse("caseload:dashboard"))
    assert [f.overdue for f in listed.context["page"].object_list] == [True]
    assert "escalation window (1 hour)" in listed.content.decode()
    assert board.context["lead"][0]["overdue"]
    assert "past the escalation window (1 hour)" in board.content.decode()
