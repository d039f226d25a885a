"""A risk flag's life: raised -> acknowledged (who, when) -> closed with the action taken.

A PHQ-9 whose item 9 is above 0 raises a flag (``sessions.measures.measure_record``); in the
same transaction ``risk_flag_raised`` puts staff alerts into the outbox: email, and a text
message where a number is on file, to the treating therapist and to the clinic's duty
contact, due at once and not held back by quiet hours. A flag nobody acknowledges within the
clinic's escalation window is raised again to the clinic admins and the duty contact
(``risk_flags_escalate``, run by beat). Every alert and escalation is audited and listed on the
flag's page; a flag is closed from that page or from the session note's risk assessment, with
the same record, so that the note and the flag never disagree.

The alerts carry no name and no clinical content: "A patient's answers need review today" and a
link to the flag, which opens after login (``sessions.notices`` composes them at send time).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ipt_clinic.accounts.models import Role, User
from ipt_clinic.audit.services import AuditAction, audit_record
from notifications.models import Notification, NotificationChannel, NotificationStatus
from notifications.outbox import outbox_put
from notifications.sending import notifications_send_now
from patients.caseload_figures import figures_changed

from .models import Measure, RiskAction, SessionNote

RISK_ALERT = "risk_alert"
RISK_ESCALATION = "risk_escalation"
ABOUT = "risk_flag"
# Audiences of an alert (the unique key tells their rows apart): the treating therapist, the
# clinic's duty contact, and (escalation) each clinic admin as "admin-<id>".
THERAPIST = "therapist"
DUTY = "duty"


@dataclass(frozen=True)
class Recipient:
    audience: str
    email: str
    phone: str


def _recipients(measure: Measure, *, escalation: bool) -> list[Recipient]:
    """Who is alerted about ``measure``'s flag now: the treating therapist (the first alert)
    or every active clinic admin (the escalation), and the duty contact either way; a
    person reached by both (the duty contact is the therapist) is alerted once."""
    clinic = measure.course.clinic
    people = []
    if escalation:
        admins = User.objects.filter(
            clinic_id=clinic.pk, role=Role.CLINIC_ADMIN, is_active=True, deactivated_at=None
        ).order_by("pk")
        people += [Recipient(f"admin-{admin.pk}", admin.email, admin.mobile) for admin in admins]
    else:
        therapist = measure.course.therapist
        people.append(Recipient(THERAPIST, therapist.email, therapist.mobile))
    duty = clinic.duty_contact
    if duty is not None:
        people.append(Recipient(DUTY, duty.email, duty.phone))
    seen, unique = set(), []
    for person in people:
        reach = (person.email.lower(), person.phone)
        if reach not in seen:
            seen.add(reach)
            unique.append(person)
    return unique


def _queue_alerts(measure: Measure, *, kind: str, escalation: bool) -> list[Notification]:
    written = []
    for person in _recipients(measure, escalation=escalation):
        for channel, address in (
            (NotificationChannel.EMAIL, person.email),
            (NotificationChannel.SMS, person.phone),
        ):
            if not address:
                continue
            written.append(
                outbox_put(
                    patient=measure.course.patient,
                    channel=channel,
                    recipient=address,
                    kind=kind,
                    about_type=ABOUT,
                    about_id=measure.pk,
                    intended=measure.created_at,
                    audience=person.audience,
                    quiet_hours=False,
                )
            )
    notifications_send_now([row.pk for row in written if row.status == NotificationStatus.PENDING])
    return written


def risk_flag_raised(*, measure: Measure, request=None) -> list[Notification]:
    """Call inside the transaction that saved a flagged measure: alert the treating therapist
    and the duty contact at once, and audit it. Writing the same alerts again writes nothing
    (the outbox's unique keys)."""
    alerts = _queue_alerts(measure, kind=RISK_ALERT, escalation=False)
    if measure.entered_by_id is not None:
        # Typed in by a member of staff, who has seen the answer: acknowledged by them at once
        # (the alerts still go out), so no escalation chases the clinician who entered it.
        Measure.objects.filter(pk=measure.pk, risk_acknowledged_at__isnull=True).update(
            risk_acknowledged_by_id=measure.entered_by_id,
            risk_acknowledged_at=measure.created_at,
        )
        measure.risk_acknowledged_by_id = measure.entered_by_id
        measure.risk_acknowledged_at = measure.created_at
    audit_record(
        action=AuditAction.CREATE,
        clinic_id=measure.clinic_id,
        actor=None,
        actor_kind="system",
        patient_id=measure.course.patient_id,
        target=measure,
        summary=f"Risk alert queued: {_sent_to(alerts)}",
        request=request,
    )
    return alerts


def audience_of(alert: Notification) -> str:
    """Whom an alert row is for ("therapist", "duty", "admin-<id>"): the end of its key."""
    return alert.dedupe_key.rsplit(":", 1)[-1]


def _sent_to(alerts: list[Notification]) -> str:
    if not alerts:
        return "no one could be reached (no email or number on file)"
    return ", ".join(f"{audience_of(row)} by {row.get_channel_display()}" for row in alerts)


def _locked(measure: Measure) -> Measure:
    measure = (
        Measure.objects.select_for_update()
        .select_related("course__patient", "course__clinic", "course__therapist")
        .get(clinic_id=measure.clinic_id, pk=measure.pk)
    )
    if not measure.risk_flag:
        raise ValidationError("This questionnaire raised no risk flag.")
    return measure


@transaction.atomic
def risk_flag_acknowledge(*, measure: Measure, by, request=None) -> Measure:
    """``by`` has seen the flag and is dealing with it: no escalation follows. Acknowledging
    twice changes nothing."""
    measure = _locked(measure)
    if measure.risk_responded_at is not None or measure.risk_acknowledged_at is not None:
        return measure
    measure.risk_acknowledged_by = by
    measure.risk_acknowledged_at = timezone.now()
    measure.save(update_fields=["risk_acknowledged_by", "risk_acknowledged_at"])
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=measure.clinic_id,
        actor=by,
        patient_id=measure.course.patient_id,
        target=measure,
        summary="Risk flag acknowledged",
        request=request,
    )
    return measure


@transaction.atomic
def risk_flag_close(
    *,
    measure: Measure,
    by,
    action: str,
    response: str = "",
    note: SessionNote | None = None,
    request=None,
) -> Measure:
    """Close the flag with what was done (``action``; ``response`` says what, and is required
    for "other"). Closing acknowledges it too. ``note`` is the session note whose risk
    assessment closed it. Raises ValidationError (nothing saved) on a bad action, a missing
    reason, or a flag already closed."""
    response = (response or "").strip()
    if action not in RiskAction.values:
        raise ValidationError("Choose what was done about the risk flag.")
    if not response:
        # A radio alone says too little of a risk assessment: who was reached, what was
        # agreed, what happens next.
        raise ValidationError("Say briefly what was done and agreed about the risk flag.")
    measure = _locked(measure)
    if measure.risk_responded_at is not None:
        raise ValidationError("This risk flag is already closed.")
    now = timezone.now()
    if measure.risk_acknowledged_at is None:
        measure.risk_acknowledged_by = by
        measure.risk_acknowledged_at = now
    measure.risk_action = action
    measure.risk_response = response
    measure.risk_responded_by = by
    measure.risk_responded_at = now
    measure.risk_closed_in_note = note
    measure.save(
        update_fields=[
            "risk_acknowledged_by",
            "risk_acknowledged_at",
            "risk_action",
            "risk_response",
            "risk_responded_by",
            "risk_responded_at",
            "risk_closed_in_note",
        ]
    )
    figures_changed(clinic_id=measure.clinic_id, therapist_ids=[measure.course.therapist_id])
    where = f" in the note of {note.session.scheduled_start:%d %b %Y}" if note else ""
    audit_record(
        action=AuditAction.UPDATE,
        clinic_id=measure.clinic_id,
        actor=by,
        patient_id=measure.course.patient_id,
        target=measure,
        summary=f"Risk flag closed{where}: {measure.get_risk_action_display()}",
        changes={"action": [None, action], "response": [None, response]},
        request=request,
    )
    return measure


def _unescalated(now: datetime) -> QuerySet[Measure]:
    return Measure.objects.filter(
        risk_flag=True,
        risk_responded_at__isnull=True,
        risk_acknowledged_at__isnull=True,
        risk_escalated_at__isnull=True,
        superseded_at__isnull=True,
        created_at__lte=now,
    )


def risk_flags_escalate(*, now: datetime | None = None) -> int:
    """Raise again every flag left unacknowledged past its clinic's escalation window: alert
    the clinic admins and the duty contact, stamp the flag, audit it. Each flag in its own
    transaction, claimed with a conditional UPDATE, so two beats escalate it once. Returns how
    many flags were escalated."""
    now = now or timezone.now()
    escalated = 0
    candidates = _unescalated(now).select_related("course__clinic").order_by("created_at")
    for measure in candidates[:500]:
        if measure.created_at + measure.course.clinic.escalation_window > now:
            continue
        with transaction.atomic():
            if not _unescalated(now).filter(pk=measure.pk).update(risk_escalated_at=now):
                continue  # acknowledged, closed or escalated meanwhile
            measure = Measure.objects.select_related(
                "course__patient", "course__clinic", "course__therapist"
            ).get(pk=measure.pk)
            alerts = _queue_alerts(measure, kind=RISK_ESCALATION, escalation=True)
            audit_record(
                action=AuditAction.UPDATE,
                clinic_id=measure.clinic_id,
                actor=None,
                actor_kind="system",
                patient_id=measure.course.patient_id,
                target=measure,
                summary=(
                    "Risk flag not acknowledged within "
                    f"{measure.course.clinic.escalation_window_label}: escalated to "
                    + _sent_to(alerts)
                ),
            )
            escalated += 1
    return escalated


def risk_flag_alerts(measure: Measure) -> list[Notification]:
    """The alerts and escalations about this flag, oldest first (for the flag's page), each
    with its ``audience``."""
    alerts = list(
        Notification.objects.filter(
            clinic_id=measure.clinic_id, about_type=ABOUT, about_id=measure.pk
        ).order_by("created_at", "id")
    )
    for alert in alerts:
        alert.audience = audience_of(alert)
    return alerts


def risk_alerted(measure: Measure) -> dict[str, bool]:
    """Who was alerted about this flag (the portal tells the patient the truth): whether the
    treating therapist and the duty contact each have an alert in the outbox."""
    ids = [measure.pk] + ([measure.corrects_id] if measure.corrects_id else [])
    audiences = {
        audience_of(alert)
        for alert in Notification.objects.filter(
            clinic_id=measure.clinic_id, about_type=ABOUT, about_id__in=ids, kind=RISK_ALERT
        )
    }
    return {"therapist": THERAPIST in audiences, "duty": DUTY in audiences}
