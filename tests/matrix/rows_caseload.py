"""The clinic admin's review pages: admin only (therapists 404), each admin sees their own
clinic. Writes name a record of the world's clinic: another clinic's admin gets an invalid
choice (nothing changes), which ``tests/caseload`` checks in detail."""

from tests.matrix import Row, version_of


def _invited(world):
    """An invitation not yet answered, in the world's clinic (made once per world)."""
    from ipt_clinic.accounts.models import User

    invited = world.extra.get("invited_to_resend")
    if invited is None:
        invited = User(
            username="waiting@example.org",
            email="waiting@example.org",
            clinic=world.clinic,
            is_active=False,
        )
        invited.set_unusable_password()
        invited.save()
        world.extra["invited_to_resend"] = invited
    return invited


def _settings_form(world) -> dict:
    """The settings form of the world's clinic with one change. Another clinic's admin
    posting it changes their own clinic (the page names no clinic)."""
    clinic = world.clinic
    return {
        "version": version_of(clinic),
        "time_zone": clinic.time_zone,
        "reminder_lead_hours": 12,
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
        "escalation_minutes": 240,
    }


ROWS = {
    "caseload:dashboard": [
        Row(audience="admin"),
        Row(audience="admin", query="sort=risk_open&dir=desc&page=2"),
    ],
    "caseload:drilldown": [
        Row(audience="admin", query="metric=active"),
        Row(audience="admin", query="metric=risk_open"),
        # The open risk flags, from page 2 of the dashboard sorted by them.
        Row(audience="admin", query="metric=risk_open&from=risk_open.desc.2"),
    ],
    "caseload:courses": [Row(audience="admin"), Row(audience="admin", query="risk=open&page=2")],
    "caseload:export_courses": [Row(audience="admin")],
    "caseload:outcomes": [
        Row(audience="admin"),
        Row(audience="admin", query="date_from=2026-01-01&date_to=2026-12-31"),
    ],
    "caseload:export_outcomes": [Row(audience="admin")],
    "caseload:export_recovery": [
        Row(audience="admin"),
        Row(audience="admin", query="date_from=2026-01-01&date_to=2026-12-31"),
    ],
    "caseload:reassign": [
        Row(audience="admin"),
        Row(
            audience="admin",
            method="post",
            data=lambda w: {
                "course": w.course.pk,
                "to_therapist": w.other_therapist.pk,
                "reason": "Caseload balance",
            },
        ),
        # Moving one or all of a therapist's patients: the preview, then the move.
        Row(
            audience="admin",
            method="post",
            names_staff=True,
            data=lambda w: {
                "step": "preview",
                "from": w.owner.pk,
                "to_therapist": w.other_therapist.pk,
                "reason": "Caseload balance",
            },
        ),
        Row(
            audience="admin",
            method="post",
            names_staff=True,
            data=lambda w: {
                "step": "confirm",
                "from": w.owner.pk,
                "to_therapist": w.other_therapist.pk,
                "reason": "Caseload balance",
                "patients": [w.patient.pk],
            },
        ),
    ],
    "caseload:staff": [Row(audience="admin")],
    "caseload:staff_invite": [
        Row(
            audience="admin",
            method="post",
            data=lambda w: {
                "email": "new.therapist@example.org",
                "first_name": "Nia",
                "last_name": "Newman",
            },
        )
    ],
    "caseload:staff_deactivate": [
        Row(audience="admin", method="post", data=lambda w: {"member": w.other_therapist.pk})
    ],
    "caseload:staff_invite_resend": [
        Row(
            audience="admin",
            method="post",
            names_staff=True,
            data=lambda w: {"member": _invited(w).pk},
        )
    ],
    "caseload:staff_invite_withdraw": [
        Row(
            audience="admin",
            method="post",
            names_staff=True,
            data=lambda w: {"member": _invited(w).pk},
        )
    ],
    "caseload:clinic_settings": [
        Row(audience="admin"),
        Row(audience="admin", method="post", data=_settings_form),
    ],
    "caseload:operations": [Row(audience="admin")],
    # Ids are posted; only the admin's own clinic's failed staff mails move.
    "caseload:operations_resend": [
        Row(audience="admin", method="post", data=lambda w: {"ids": [w.notification.pk]}),
    ],
}
