"""The notices about sessions and homework: when they are due, and whether they still apply
when the outbox sends them.

The hooks (``on_session_booked`` …) are called by the services in their own transactions; the
kinds are registered with the outbox (``notifications.registry``) from the app's ``ready()``.
"""

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ipt_clinic.accounts.models import User
from ipt_clinic.rows import Columns, instances, statement
from notifications import outbox, registry
from notifications.models import Notification
from notifications.registry import Delivery, NothingToSend
from patients.models import Patient
from patients.notices import contact_for, notice_put, recipient_now, require_active
from phases.maintenance import checkin_at, checkin_now
from phases.models import CourseStatus, CourseType, TreatmentCourse

from .models import (
    CANCELLED_STATUSES,
    Assignment,
    AssignmentStatus,
    Measure,
    SessionStatus,
    TherapySession,
)
from .risk import DUTY, RISK_ALERT, RISK_ESCALATION, THERAPIST, audience_of

SESSION_REMINDER = "session_reminder"
HOMEWORK_NEW = "homework_new"
HOMEWORK_DUE = "homework_due"
HOMEWORK_KINDS = [HOMEWORK_NEW, HOMEWORK_DUE]
# A maintenance course's monthly PHQ-9, asked for through the portal (phases.maintenance).
MAINTENANCE_CHECKIN = "maintenance_checkin"

# When the "due tomorrow" homework reminder goes out, in the clinic's time zone.
HOMEWORK_DUE_REMINDER_AT = time(9, 0)


def _session_patient(session: TherapySession) -> Patient:
    return Patient.objects.select_related("clinic").get(pk=session.course.patient_id)


def _reminder_time(session: TherapySession, patient: Patient) -> datetime:
    return session.scheduled_start - timedelta(hours=patient.clinic.reminder_lead_hours)


def on_session_booked(session: TherapySession) -> Notification | None:
    """Called inside the booking transaction. The reminder is due ``reminder_lead_hours``
    before the start, or at once when the session is booked inside that window."""
    if session.scheduled_start <= timezone.now():
        return None
    patient = _session_patient(session)
    return notice_put(
        patient=patient,
        kind=SESSION_REMINDER,
        about_type="session",
        about_id=session.pk,
        intended=_reminder_time(session, patient),
    )


def on_session_rescheduled(session: TherapySession) -> Notification | None:
    """Called inside the rescheduling transaction (scheduled_start already changed): the old
    reminder is cancelled and one for the new time written."""
    patient = _session_patient(session)
    contact = contact_for(patient)
    keep = ""
    if contact is not None:
        keep = outbox.dedupe_key(
            "session", session.pk, SESSION_REMINDER, contact[0], _reminder_time(session, patient)
        )
    outbox.outbox_cancel(
        clinic_id=session.clinic_id,
        about_type="session",
        about_id=session.pk,
        kinds=[SESSION_REMINDER],
        reason="Session moved to another time.",
        keep=keep,
    )
    return on_session_booked(session)


def on_session_cancelled(session: TherapySession) -> None:
    """Called inside the cancelling transaction."""
    outbox.outbox_cancel(
        clinic_id=session.clinic_id,
        about_type="session",
        about_id=session.pk,
        kinds=[SESSION_REMINDER],
        reason="Session cancelled.",
    )


def on_assignment_set(assignment: Assignment) -> list[Notification]:
    """Called inside the transaction that sets homework: a "new homework" notice now and a
    "due tomorrow" reminder on the day before it is due (none when it is due today or sooner)."""
    patient = Patient.objects.select_related("clinic").get(pk=assignment.course.patient_id)
    written = []
    new = notice_put(
        patient=patient,
        kind=HOMEWORK_NEW,
        about_type="assignment",
        about_id=assignment.pk,
        intended=assignment.created_at or timezone.now(),
    )
    if new is not None:
        written.append(new)
    tz = patient.clinic.tz
    day_before = assignment.due_date - timedelta(days=1)
    if day_before >= timezone.now().astimezone(tz).date():
        due = notice_put(
            patient=patient,
            kind=HOMEWORK_DUE,
            about_type="assignment",
            about_id=assignment.pk,
            intended=datetime.combine(day_before, HOMEWORK_DUE_REMINDER_AT, tzinfo=tz),
        )
        if due is not None:
            written.append(due)
    return written


def on_assignment_closed(assignment: Assignment) -> None:
    """Called when homework is marked done / not done / withdrawn (cancels its notices)."""
    outbox.outbox_cancel(
        clinic_id=assignment.clinic_id,
        about_type="assignment",
        about_id=assignment.pk,
        kinds=HOMEWORK_KINDS,
        reason="Homework closed.",
    )


# ─── at send time ────────────────────────────────────────────────────────────────────────


def _course_ended(course_status: str) -> None:
    # Defence in depth: ending a course withdraws its notices, but a row claimed before (or
    # a course ended by any other path) is caught here.
    if course_status != CourseStatus.ACTIVE:
        raise NothingToSend("The course has ended.")


# What the send-time checks and the words read of a piece of homework, with its course's
# status, in one narrow query. With the whole course row (select_related) and the model's
# default ordering the sender spent about twice the CPU on it (1.6 against 0.6-0.9 ms a
# query, in one process on PostgreSQL); built once, as a class-based view's queryset is, each
# send takes a copy through ``filter()`` (0.45 against 0.6 ms, building the query each time).
_ASSIGNMENTS_TO_NOTIFY = (
    Assignment.objects.annotate(course_status=F("course__status"))
    .only("id", "status", "due_date")
    .order_by()
)

# The same read of a session for its reminder, as one fixed statement: the ORM's equivalent
# (tests/sessions/test_session_to_remind.py: ``TherapySession.objects.annotate(course_status=
# F("course__status")).only("id", "status", "scheduled_start", "duration_minutes")``, filtered
# by the primary key) compiled its query for every reminder sent. Kept by measurement
# (issue 18): through the ORM the sending process spent 4.67 against 3.56 million
# instructions per reminder sent over SMTP (callgrind, one process on PostgreSQL, 100 sends
# each way), a quarter of the send, where make bench's delivery missed its target (40% of
# the no-op ceiling against 50%). The test compares both on SQLite and PostgreSQL.
_SESSION_COLUMNS = ("id", "status", "scheduled_start", "duration_minutes")


def _session_to_remind_sql() -> tuple[str, list[Columns]]:
    quote = connection.ops.quote_name
    parts = [Columns(TherapySession, "s", names=_SESSION_COLUMNS)]
    course = TherapySession._meta.get_field("course")
    sql = (
        f"SELECT {parts[0].sql}, c.{quote(TreatmentCourse._meta.get_field('status').column)}"  # noqa: S608 - names from the models, the key as a parameter  # nosec B608
        f" FROM {quote(TherapySession._meta.db_table)} s"
        f" JOIN {quote(TreatmentCourse._meta.db_table)} c"
        f" ON c.{quote(TreatmentCourse._meta.pk.column)} = s.{quote(course.column)}"
        f" WHERE s.{quote(TherapySession._meta.pk.column)} = %s"
    )
    return sql, parts


def session_to_remind(pk: int) -> TherapySession | None:
    """The session ``pk`` with only its id, status, start and length loaded, and its
    course's status as ``course_status``; None when there is no such session."""
    sql, parts = statement("session-to-remind", _session_to_remind_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    (session,) = instances(row[:-1], parts)
    session.course_status = row[-1]
    return session


def _compose_session_reminder(notification: Notification, now: datetime) -> Delivery:
    require_active(notification)
    session = session_to_remind(notification.about_id)
    if session is not None:
        _course_ended(session.course_status)
    recipient = recipient_now(notification)
    if session is None or session.status in CANCELLED_STATUSES:
        raise NothingToSend("Session cancelled.")
    if session.status != SessionStatus.SCHEDULED or session.scheduled_start <= now:
        raise NothingToSend("Session already started.")
    return Delivery(
        recipient=recipient,
        first_name=notification.patient.first_name,
        starts_at=session.scheduled_start,
        duration_minutes=session.duration_minutes,
        # The portal's calendar file's UID (portal/ics.py): one appointment is one event in
        # the patient's calendar, whichever file added it, and the UID names no treatment.
        calendar_uid=f"session-{session.pk}@{urlsplit(settings.SITE_URL).hostname}",
    )


def _compose_homework(notification: Notification, now: datetime) -> Delivery:
    require_active(notification)
    assignment = _ASSIGNMENTS_TO_NOTIFY.filter(pk=notification.about_id).first()
    if assignment is not None:
        _course_ended(assignment.course_status)
    recipient = recipient_now(notification)
    if assignment is None or assignment.status != AssignmentStatus.ASSIGNED:
        raise NothingToSend("Homework closed.")
    return Delivery(
        recipient=recipient,
        first_name=notification.patient.first_name,
        due_date=assignment.due_date,
    )


def maintenance_checkins_request(*, now: datetime | None = None) -> int:
    """Ask for this month's PHQ-9 of every active maintenance course whose check-in has come
    and is not answered: one notice each, meant for 09:00 on the check-in's day, clinic time
    (``phases.maintenance.checkin_now``). Run by beat every hour; a notice already written for
    a month is not written again (its key names the month's day). Returns how many courses
    were asked."""
    now = now or timezone.now()
    courses = TreatmentCourse.objects.filter(
        course_type=CourseType.MAINTENANCE, status=CourseStatus.ACTIVE
    ).select_related("patient__clinic")
    asked = 0
    for course in courses:
        tz = course.patient.clinic.tz
        checkin = checkin_now(course, today=timezone.localdate(now, tz), tz=tz)
        if checkin is None or checkin.answered:
            continue
        notice = notice_put(
            patient=course.patient,
            kind=MAINTENANCE_CHECKIN,
            about_type="course",
            about_id=course.pk,
            intended=checkin_at(checkin.day, tz),
        )
        asked += notice is not None
    return asked


def _compose_maintenance_checkin(notification: Notification, now: datetime) -> Delivery:
    require_active(notification)
    course = TreatmentCourse.objects.filter(pk=notification.about_id).first()
    if course is None:
        raise NothingToSend("The course is gone.")
    _course_ended(course.status)
    recipient = recipient_now(notification)
    tz = notification.clinic.tz
    checkin = checkin_now(course, today=timezone.localdate(now, tz), tz=tz)
    if checkin is None or checkin.answered:
        raise NothingToSend("This month's questionnaire is already filled in.")
    return Delivery(recipient=recipient, first_name=notification.patient.first_name)


def register() -> None:
    register_risk_alerts()
    registry.register(
        name=SESSION_REMINDER,
        label="Session reminder",
        about_type="session",
        compose=_compose_session_reminder,
    )
    registry.register(
        name=HOMEWORK_NEW, label="New homework", about_type="assignment", compose=_compose_homework
    )
    registry.register(
        name=HOMEWORK_DUE,
        label="Homework due tomorrow",
        about_type="assignment",
        compose=_compose_homework,
    )
    registry.register(
        name=MAINTENANCE_CHECKIN,
        label="Monthly questionnaire",
        about_type="course",
        compose=_compose_maintenance_checkin,
    )


# ─── alerts to staff about a risk flag (sessions.risk) ──────────────────────────────────


def _compose_risk_alert(notification: Notification, now: datetime) -> Delivery:
    """An alert or escalation about a risk flag, to whom its key names, at the address or
    number on file now. Not sent once the flag is closed; an escalation not once someone
    acknowledged the flag."""
    measure = (
        Measure.objects.select_related("course__therapist", "course__clinic")
        .filter(clinic_id=notification.clinic_id, pk=notification.about_id)
        .first()
    )
    if measure is None or measure.risk_responded_at is not None:
        raise NothingToSend("The risk flag was closed.")
    if notification.kind == RISK_ESCALATION and measure.risk_acknowledged_at is not None:
        raise NothingToSend("The risk flag was acknowledged.")
    audience = audience_of(notification)
    if audience == THERAPIST:
        person = measure.course.therapist
        email, phone = person.email, person.mobile
    elif audience == DUTY:
        duty = measure.course.clinic.duty_contact
        email, phone = (duty.email, duty.phone) if duty is not None else ("", "")
    else:
        admin = User.objects.filter(
            clinic_id=notification.clinic_id, pk=int(audience.removeprefix("admin-"))
        ).first()
        if admin is None or not admin.is_active:
            raise NothingToSend("That clinic admin's account is no longer active.")
        email, phone = admin.email, admin.mobile
    recipient = email if notification.channel == "email" else phone
    if not recipient:
        raise NothingToSend("No address or number on file for this channel any more.")
    link = settings.SITE_URL + reverse("therapy:risk_flag", args=[measure.pk])
    return Delivery(recipient=recipient, first_name="", url=link)


def register_risk_alerts() -> None:
    for name, label in ((RISK_ALERT, "Risk alert"), (RISK_ESCALATION, "Risk escalation")):
        registry.register(
            name=name,
            label=label,
            about_type="risk_flag",
            compose=_compose_risk_alert,
            quiet_hours=False,
        )
