"""The four hand-written patients of the small demo: Anna Whitfield's caseload at Northgate,
one IPT course per problem area, each at a different phase.

- NG-0001 Margaret Doyle, **grief**: widowed fourteen months before the course, mourning
  stuck; now in **termination**, her relapse-prevention plan written; her formulation shared
  with her in her own words and agreed in the portal. Her portal link is the one the demo
  prints; her last three PHQ-9s and GAD-7s she filled in there, and her last WSAS (she is
  retired: its work item unscored).
- NG-0002 Rachel Kemp, **role dispute** with her husband Marcus, from impasse to
  renegotiation; **problem-solving** phase; she filled in a PHQ-9 in the portal just now
  with item 9 positive: the open risk flag on the dashboard.
- NG-0003 Priya Shah, **role transition** to first-time mother; **social assessment**, the
  formulation not yet written nor shared.
- NG-0004 Jamie Lowe, **interpersonal deficits**, isolated since leaving university;
  **initial** assessment.

Each story is told through the apps' own services (``patients.services``,
``phases.services``, ``sessions.services``, ``sessions.measures``, the portal's services and
portal links) at the moments it happened, on a ``StoryClock``: the patient's record before the
course, each session booked at the end of the one before, scores taken five minutes into a
session, the note written at its end and signed later that day, homework done in the portal
the evening before it was due. The outbox's hooks run inside those services; what a running
outbox would have sent by each moment is marked sent at its due time (``Teller.at``).

Dates are relative to the day the demo is seeded: the last session of each story took place
one to six days before (on the weekday its patient comes in), the next one is booked ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ipt_clinic.accounts.models import Clinic, User
from notifications.models import Notification, NotificationStatus
from patients.models import Patient, PortalLink, Relationship
from patients.portal_links import portal_link_create, portal_link_touch
from patients.services import (
    life_event_create,
    patient_create,
    relationship_create,
    relationship_update,
)
from phases.formulation_sharing import formulation_answer_record, formulation_share
from phases.models import Goal, ProblemArea, TreatmentCourse
from phases.services import (
    course_advance,
    course_create,
    course_update,
    dispute_stage_record,
    goal_create,
    mid_course_review_create,
    problem_area_create,
    relapse_plan_save,
)
from portal.services import assignment_close_by_patient, self_report_record
from sessions.homework import homework_entry_add
from sessions.measures import measure_record
from sessions.models import Assignment, SessionNote, SessionStatus, TherapySession
from sessions.services import (
    GoalReviewInput,
    assignment_set,
    note_save,
    note_sign,
    note_start,
    session_book,
    session_record_attendance,
)

from .clinics import demo_portal_token
from .clock import StoryClock


def spread(total: int, items: int, *, item9: int = 0, top: int = 3) -> list[int]:
    """Item answers (0 to ``top``) adding up to ``total``, spread evenly from the first item;
    for the PHQ-9 the ninth item (thoughts of self-harm) is ``item9`` and the rest carry the
    total."""
    answers = [0] * items
    free = items - 1 if items == 9 else items
    if items == 9:
        answers[8] = item9
    remaining = total - item9
    if not 0 <= remaining <= top * free:
        raise ValueError(f"{total} cannot be spread over {items} items")
    position = 0
    while remaining:
        if answers[position % free] < top:
            answers[position % free] += 1
            remaining -= 1
        position += 1
    return answers


def answers_for(instrument: str, total: int, *, item9: int = 0, retired: bool = False) -> list:
    """Answers of ``instrument`` adding up to ``total``. A WSAS of someone ``retired`` leaves
    its work item unscored (None), as the scale's form says, and spreads the total over the
    other four."""
    if instrument == "wsas":
        if retired:
            return [None, *spread(total, 4, top=8)]
        return spread(total, 5, top=8)
    return spread(total, 9 if instrument == "phq9" else 7, item9=item9)


@dataclass
class Visit:
    session: TherapySession
    note: SessionNote
    homework: Assignment | None


@dataclass
class Teller:
    """Tells one patient's story through the services, moving the story clock as it goes."""

    clinic: Clinic
    therapist: User
    clock: StoryClock
    patient: Patient | None = None
    course: TreatmentCourse | None = None
    link: PortalLink | None = None
    # The problem area the middle sessions work on: their notes and homework name it.
    focus: ProblemArea | None = None
    sessions: dict[datetime, TherapySession] = field(default_factory=dict)
    # Retired (or not working for reasons unrelated to the problem): the WSAS work item is
    # left unscored.
    retired: bool = False

    # --- time --------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return timezone.localdate(self.clock.real_now, self.clinic.tz)

    def last_weekday(self, *weekdays: int) -> date:
        """The latest day before today, at most six days back, that falls on the first of
        ``weekdays`` (Monday is 0) that is not today: the day of the story's last session."""
        for weekday in weekdays:
            back = (self.today.weekday() - weekday) % 7
            if back:
                return self.today - timedelta(days=back)
        raise ValueError("Give two weekdays: one of them is not today.")

    def when(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.clinic.tz)

    def at(self, moment: datetime) -> None:
        """Move the story to ``moment``. What the outbox would have sent by then went out when
        it came due: the demo has no mail server in its past to send it through."""
        if self.patient is not None:
            Notification.objects.filter(
                clinic_id=self.clinic.pk,
                patient=self.patient,
                status=NotificationStatus.PENDING,
                due_at__lte=moment,
            ).update(
                status=NotificationStatus.SENT,
                attempts=1,
                sent_at=F("due_at"),
                updated_at=F("due_at"),
            )
        self.clock.move_to(moment)

    def finish(self) -> None:
        """The story has reached today."""
        self.at(self.clock.real_now)

    # --- the record and the course -----------------------------------------------------

    def open_record(self, moment: datetime, **fields) -> Patient:
        self.at(moment)
        self.patient = patient_create(
            by=self.therapist,
            clinic=self.clinic,
            primary_therapist=self.therapist,
            reminder_consent=True,
            **fields,
        )
        return self.patient

    def open_course(self, moment: datetime, *, first_session: datetime, modality: str, **fields):
        """The course opened and its first session booked, in the same sitting."""
        self.at(moment)
        self.course = course_create(
            patient=self.patient,
            by=self.therapist,
            start_date=timezone.localdate(first_session, self.clinic.tz),
            **fields,
        )
        self.book(first_session, modality=modality)
        return self.course

    def book(self, start: datetime, *, modality: str) -> TherapySession:
        session = session_book(
            course=self.course,
            start=start,
            duration_minutes=50,
            modality=modality,
            by=self.therapist,
        )
        self.sessions[start] = session
        return session

    def give_portal_link(self, *, printed: bool = False) -> None:
        """The therapist hands over the patient's portal link. ``printed``: the demo's own,
        whose token every run of ``seed_demo`` can print again."""
        token = demo_portal_token(self.patient) if printed else None
        self.link, _url = portal_link_create(patient=self.patient, by=self.therapist, token=token)

    def change_course(self, **fields) -> None:
        self.course = course_update(
            course=self.course, by=self.therapist, expected_version=None, **fields
        )

    def share_formulation(self, text: str) -> None:
        """The therapist shares the formulation in the patient's words in the portal."""
        formulation_share(course=self.course, by=self.therapist, text=text, expected_version=None)

    def advance(self) -> None:
        course_advance(course=self.course, by=self.therapist, expected_phase=self.course.phase)
        self.course.refresh_from_db()

    # --- the inventory and the timeline ------------------------------------------------

    def person(self, **fields) -> Relationship:
        return relationship_create(patient=self.patient, by=self.therapist, **fields)

    def change_person(self, person: Relationship, **fields) -> Relationship:
        return relationship_update(
            relationship=person, by=self.therapist, expected_version=None, **fields
        )

    def event(self, occurred_on: date, description: str, mood_effect: int, person=None):
        if occurred_on > timezone.localdate(self.clock.now(), self.clinic.tz):
            raise ValueError(f"{description!r} has not happened yet")
        return life_event_create(
            patient=self.patient,
            by=self.therapist,
            occurred_on=occurred_on,
            description=description,
            relationship=person,
            mood_effect=mood_effect,
        )

    def area(self, **fields) -> ProblemArea:
        return problem_area_create(course=self.course, by=self.therapist, **fields)

    def goal(self, area: ProblemArea, text: str) -> Goal:
        return goal_create(problem_area=area, by=self.therapist, text=text)

    def stage(self, area: ProblemArea, start: datetime, stage: str, note: str) -> None:
        """The dispute's stage as it stood at the session that began at ``start``."""
        dispute_stage_record(
            problem_area=area,
            by=self.therapist,
            stage=stage,
            recorded_on=timezone.localdate(start, self.clinic.tz),
            note=note,
            session_id=self.sessions[start].pk,
        )

    def review(self, start: datetime, **fields) -> None:
        """The mid-course review, held at the session that began at ``start``."""
        mid_course_review_create(
            course=self.course, by=self.therapist, session_id=self.sessions[start].pk, **fields
        )

    # --- sessions ----------------------------------------------------------------------

    def visit(
        self,
        start: datetime,
        *,
        note: dict,
        phq9: int | None = None,
        gad7: int | None = None,
        wsas: int | None = None,
        reviewed: dict[Assignment, str] | None = None,
        goals: dict[Goal, tuple[int, str]] | None = None,
        during: Callable[[], None] | None = None,
        advance: bool = False,
        homework: dict | Callable[[], dict] | None = None,
        next_start: datetime | None = None,
        modality: str = "in_person",
        sign_after: timedelta = timedelta(hours=2),
    ) -> Visit:
        """One attended session: the questionnaires five minutes in, then at its end the
        attendance, the note (with goal progress and last time's homework reviewed), what
        changed in the session (``during``), homework, the phase moved on if ``advance``, and
        the next session booked; the note signed later that day."""
        session = self.sessions[start]
        self.at(start + timedelta(minutes=5))
        for instrument, total in (("phq9", phq9), ("gad7", gad7), ("wsas", wsas)):
            if total is not None:
                measure_record(
                    course=self.course,
                    instrument=instrument,
                    answers=answers_for(instrument, total, retired=self.retired),
                    entered_by=self.therapist,
                    session=session,
                )
        self.at(start + timedelta(minutes=50))
        session_record_attendance(session=session, by=self.therapist, status="attended")
        session_note = note_start(session=session, by=self.therapist)
        if during is not None:
            during()
        session_note = note_save(
            note=session_note,
            by=self.therapist,
            data={"risk_level": "none", **note},
            expected_version=session_note.version,
            goal_reviews=[
                GoalReviewInput(goal_id=goal.pk, progress=progress, status=status)
                for goal, (progress, status) in (goals or {}).items()
            ],
            homework_reviews={assignment.pk: status for assignment, status in (reviewed or {}).items()},
        )  # fmt: skip
        self.at(start + timedelta(minutes=53))
        assignment = None
        if homework is not None:
            if callable(homework):  # names someone added in this very session
                homework = homework()
            due = homework.pop("due", None) or timezone.localdate(
                next_start - timedelta(days=1), self.clinic.tz
            )
            assignment = assignment_set(
                session=session,
                by=self.therapist,
                problem_area=self.focus,
                relationship=homework.pop("person", None),
                due_date=due,
                **homework,
            )
        if advance:
            self.advance()
        if next_start is not None:
            self.at(start + timedelta(minutes=55))
            self.book(next_start, modality=modality)
        self.at(start + sign_after)
        session_note = note_sign(note=session_note, by=self.therapist)
        return Visit(session, session_note, assignment)

    def missed(self, start: datetime) -> TherapySession:
        """The patient did not come; marked a quarter of an hour after the start."""
        self.at(start + timedelta(minutes=15))
        return session_record_attendance(
            session=self.sessions[start], by=self.therapist, status=SessionStatus.NO_SHOW
        )

    # --- the patient, in the portal ----------------------------------------------------

    def homework_closed(self, moment: datetime, assignment: Assignment, done: bool, reflection):
        self.at(moment)
        assignment_close_by_patient(
            assignment=assignment,
            status="done" if done else "not_done",
            reflection=reflection,
            link=self.link,
        )
        portal_link_touch(self.link)

    def formulation_answered(self, moment: datetime, answer: str, comment: str = "") -> None:
        """The patient answers the formulation shared with them ("agree" or "talk")."""
        self.at(moment)
        formulation_answer_record(
            share=self.course.formulation_shares.get(withdrawn_at__isnull=True),
            patient_id=self.patient.pk,
            answer=answer,
            comment=comment,
        )
        portal_link_touch(self.link)

    def homework_entry(self, moment: datetime, assignment: Assignment, **answers) -> None:
        """The patient writes an entry on homework in the portal (the answers of its kind)."""
        self.at(moment)
        homework_entry_add(assignment=assignment, values=answers)
        portal_link_touch(self.link)

    def self_report(self, moment: datetime, instrument: str, total: int, *, item9: int = 0):
        self.at(moment)
        self_report_record(
            patient=self.patient,
            course=self.course,
            instrument=instrument,
            answers=answers_for(instrument, total, item9=item9, retired=self.retired),
            form_key=None,  # no form was rendered: nothing to guard against sending twice
        )
        portal_link_touch(self.link)


# --- NG-0001: grief, termination ---------------------------------------------------------


def margaret(t: Teller) -> None:
    """Margaret Doyle, 68, widowed: Frank died fourteen months before she was referred.
    Eleven sessions held (weekly, then fortnightly in termination); the last one of the
    twelve agreed is booked. Her relapse-prevention plan is written and she has one piece of
    homework to do: reading it in the portal."""
    last = t.last_weekday(1, 2)  # Tuesdays (Wednesdays when the demo is seeded on a Tuesday)
    s = {11: t.when(last, 10), 12: t.when(last + timedelta(days=14), 10)}
    for number in range(1, 11):
        s[number] = t.when(last - timedelta(days=14 + 7 * (10 - number)), 10)
    first = s[1].date()
    died = first - timedelta(days=425)

    t.open_record(
        s[1] - timedelta(days=9, hours=-4),
        record_number="NG-0001",
        first_name="Margaret",
        last_name="Doyle",
        date_of_birth=date(1958, 3, 14),
        email="margaret.doyle@example.org",
        phone="+44 7700 900101",
        preferred_channel="email",
    )
    t.open_course(
        s[1] - timedelta(days=7, hours=-5),
        first_session=s[1],
        modality="in_person",
        planned_sessions=12,
        target_diagnosis="Major depressive disorder, single episode, moderate; complicated grief",
        sick_role_note=(
            "Depression is an illness she is recovering from, not a failure to cope: Claire "
            "does the big shop for now, and Margaret does not host Christmas this year."
        ),
        medication_considered=True,
        referral_considered=True,
        medication_referral_notes=(
            "Her GP offered sertraline; she would rather try IPT first, and the GP reviews "
            "her at six weeks. A bereavement service was considered: IPT for complicated "
            "grief first."
        ),
    )

    t.retired = True  # she is retired: her WSAS leaves the work item unscored
    t.visit(
        s[1],
        phq9=19,
        gad7=12,
        wsas=24,
        during=lambda: t.give_portal_link(printed=True),
        note={
            "symptoms_reviewed": (
                "Low mood most days since Frank died fourteen months ago. Wakes at four and "
                "cannot get back to sleep; has stopped cooking proper meals; no interest in "
                "the garden or the choir. PHQ-9 19, GAD-7 12. No thoughts of self-harm."
            ),
            "sick_role": (
                "Explained depression as an illness that can be treated, not weakness. "
                "Agreed she can let Claire help with the shopping while she recovers."
            ),
            "contract": "Offered twelve sessions of IPT; she wants to talk it over with Claire.",
            "narrative": (
                "Referred by her GP. Lives alone in the house she shared with Frank for 38 "
                "years. Gave her the portal link for questionnaires and homework."
            ),
        },
        next_start=s[2],
    )
    t.visit(
        s[2],
        phq9=18,
        gad7=12,
        during=lambda: t.change_course(contract_agreed_on=s[2].date(), planned_sessions=12),
        note={
            "symptoms_reviewed": "PHQ-9 18. Sleep a little better; still avoids Frank's workshop.",
            "sick_role": "Accepted the sick role: she has told Claire she will not host Christmas.",
            "contract": (
                "Agreed twelve sessions: weekly to the middle of the course, then fortnightly "
                "to the end. The focus will be her grief for Frank."
            ),
            "narrative": "Claire thinks the sessions are a good idea.",
        },
        advance=True,
        next_start=s[3],
    )

    people = {}

    def inventory():
        people["frank"] = t.person(
            name="Frank",
            kind="partner",
            deceased=True,
            died_on=died,
            ring=1,
            shared_activities="Married 38 years: the allotment, Sunday drives, the choir where they met.",
            satisfying="He was steady and kind; she could tell him anything.",
            unsatisfying="He kept how ill he was from her until the last month.",
            wants_to_change="To remember him without falling apart, and to be allowed to be angry with him.",
            changed_near_onset=True,
            change_when="Her husband; died fourteen months before the course",
        )  # fmt: skip
        people["claire"] = t.person(
            name="Claire",
            kind="child",
            ring=1,
            contact_frequency="Phones every Sunday; visits once a month from Leeds",
            satisfying="Practical and loving; sorted out the bills after the funeral.",
            unsatisfying="Changes the subject whenever her dad comes up.",
            patient_expectations="To let her talk about Frank",
            their_expectations="That Mum looks after herself",
            expectations_met="partly",
            knows_about_depression=True,
            wants_to_change="Talk about Frank together",
            is_support=True,
        )
        people["jean"] = t.person(
            name="Jean",
            kind="sibling",
            ring=2,
            contact_frequency="Every few weeks",
            satisfying="Knew Frank from the start; easy company.",
            unsatisfying="Lives an hour away and does not drive.",
            their_expectations="That Margaret visits",
            expectations_met="partly",
            wants_to_change="See her more often",
            changed_near_onset=True,
            change_when="Stopped visiting after the funeral",
            is_support=True,
        )
        people["pat"] = t.person(
            name="Pat",
            kind="friend",
            ring=3,
            contact_frequency="Rarely, since Margaret left the choir",
            shared_activities="The church choir on Thursdays, for twenty years.",
            satisfying="Cheerful, and never pushes.",
            wants_to_change="Go back to the choir with her",
            changed_near_onset=True,
            change_when="Lost touch ten months ago",
            is_support=True,
        )
        people["tom"] = t.person(
            name="Tom",
            kind="neighbour",
            ring=3,
            contact_frequency="Most days, over the fence",
            satisfying="Kind; puts her bins out.",
            unsatisfying="Keeps asking to buy Frank's tools.",
        )
        frank = people["frank"]
        t.event(died - timedelta(days=500), "Frank diagnosed with heart failure", -1, frank)
        t.event(died, "Frank died at home", -2, frank)
        t.event(died + timedelta(days=60), "Stopped going to the church choir", -1, people["pat"])
        t.event(died + timedelta(days=365), "First anniversary of Frank's death", -2, frank)

    v3 = t.visit(
        s[3],
        phq9=18,
        gad7=11,
        during=inventory,
        note={
            "inventory_work": (
                "The people in her life: Frank, Claire, her sister Jean, Pat from the choir, "
                "Tom next door. Since the funeral most of her contact is Claire's Sunday call."
            ),
            "narrative": "Spoke about Frank for most of the session; had not done so in months.",
        },
        homework={
            "title": "Bring two photographs of Frank",
            "instructions": "One from a good time and one from the last year of his illness.",
            "kind": "activity",
        },
        next_start=s[4],
    )
    t.homework_closed(
        t.when(s[4].date() - timedelta(days=1), 19, 30),
        v3.homework,
        True,
        "Found one from our wedding and one from the hospital. Cried, but it was good to look.",
    )

    areas, goals = {}, {}

    def formulation():
        areas["grief"] = t.area(
            kind="grief",
            deceased=people["frank"],
            relationship_reconstructed=(
                "Married 38 years: steady and kind, the allotment and the choir. The hard "
                "part: he hid how ill he was until the last month, and she is angry with him "
                "for it."
            ),
            mourning="complicated",
            anniversaries=(
                f"The day he died, {died.day} {died:%B}; their wedding anniversary in "
                "June; Christmas, which she hosted every year."
            ),
            mourning_status=(
                "Stuck: avoids his workshop and the choir, keeps his coat on the hook, and "
                "cannot talk about the last year of his illness."
            ),
            notes="Complicated grief: she has not let herself mourn Frank, nor be angry with him.",
        )
        goals["talk"] = t.goal(areas["grief"], "Talk about Frank, the good and the hard times, with Claire or Jean")  # fmt: skip
        goals["choir"] = t.goal(areas["grief"], "Go back to the choir, or find another group")
        t.change_course(
            formulation=(
                "Margaret's depression began in the months after Frank died and is grief that "
                "has got stuck: she avoids everything that reminds her of him and has not "
                "talked about his illness or her anger that he hid it. We will work on grief: "
                "going over the relationship, good and bad, and rebuilding contact with "
                "Claire, Jean and the choir."
            ),
            formulation_agreed_on=s[4].date(),
        )
        t.share_formulation(
            "Your low mood began in the months after Frank died. Losing him has been so "
            "painful that you have kept away from everything that reminds you of him: his "
            "workshop, the choir, talking about his last year. It is hard to say, but you "
            "are also angry that he kept his illness from you, and that is a normal part of "
            "grieving too.\n\n"
            "Together we will talk about Frank and your life with him, the good times and "
            "the hard ones, and help you get back in touch with Claire, Jean and the choir."
        )
        t.focus = areas["grief"]

    v4 = t.visit(
        s[4],
        phq9=16,
        gad7=10,
        reviewed={v3.homework: "done"},
        during=formulation,
        note={
            "inventory_work": (
                "Timeline: Frank's diagnosis, his death, leaving the choir, the first "
                "anniversary. Her mood fell with each."
            ),
            "formulation_discussed": (
                "Shared the formulation: her depression is grief that has got stuck. She "
                "agreed, in tears, and said it was a relief to hear it said."
            ),
            "homework_review": "Brought both photographs and talked about each.",
        },
        advance=True,
        homework={
            "title": "Tell Jean one memory of Frank",
            "instructions": "Any memory you choose. Notice how it feels to say it out loud.",
            "kind": "communication",
            "person": people["jean"],
        },
        next_start=s[5],
    )
    grief = areas["grief"]
    t.formulation_answered(
        t.when(s[4].date(), 19),
        "agree",
        "Yes. It was a relief to read it written down.",
    )
    t.homework_closed(
        t.when(s[5].date() - timedelta(days=2), 20),
        v4.homework,
        True,
        "Jean and I talked about our holidays in Whitby. It felt warm, not just sad.",
    )
    v5 = t.visit(
        s[5],
        phq9=15,
        gad7=9,
        reviewed={v4.homework: "done"},
        goals={goals["talk"]: (2, "open"), goals["choir"]: (0, "open")},
        note={
            "focus_problem_area": grief,
            "interpersonal_events": (
                "Rang Jean and told her about the holidays in Whitby; Jean cried too. Claire "
                "rang on Sunday and Margaret told her she had looked at the photographs."
            ),
            "techniques": ["encouragement_of_affect", "clarification"],
            "goal_progress": "Talking about Frank with Jean; the choir not yet.",
            "homework_review": "Done: talked to Jean.",
        },
        homework={
            "title": "Write Frank a letter about the last year",
            "instructions": "What you wish he had told you, and what you would say to him now.",
            "kind": "activity",
        },
        next_start=s[6],
    )
    t.homework_closed(
        t.when(s[6].date() - timedelta(days=1), 21),
        v5.homework,
        False,
        "Started it twice and stopped.",
    )
    v6 = t.visit(
        s[6],
        phq9=13,
        wsas=15,
        gad7=9,
        reviewed={v5.homework: "not_done"},
        goals={goals["talk"]: (3, "open"), goals["choir"]: (1, "open")},
        note={
            "focus_problem_area": grief,
            "interpersonal_events": (
                "Anger came up: Frank never told her how ill he was. She feels disloyal "
                "being angry with him."
            ),
            "techniques": ["encouragement_of_affect", "communication_analysis"],
            "goal_progress": "Able to name the hard parts of the last year.",
            "homework_review": "The letter was too hard to finish; we talked about why.",
        },
        homework={
            "title": "Finish the letter to Frank, ten minutes at a time",
            "instructions": "Ten minutes a day; stop when the time is up.",
            "kind": "log",
        },
        next_start=s[7],
    )
    t.review(
        s[6],
        goals_progress=(
            "Talking about Frank with Jean and Claire (3/10); the choir not yet (1/10). "
            "PHQ-9 down from 19 to 13."
        ),
        focus="kept",
        focus_reason="Grief for Frank is still the work: the anger about his last year has only just come up.",
        plan=(
            "Sessions 7 and 8 on the anger and the workshop; then fortnightly, the choir and "
            "the relapse-prevention plan from session 9."
        ),
    )  # fmt: skip
    t.homework_closed(
        t.when(s[7].date() - timedelta(days=2), 18),
        v6.homework,
        True,
        "Finished it. I read it out loud in the workshop.",
    )

    def workshop():
        t.event(
            s[7].date() - timedelta(days=3),
            "Opened Frank's workshop for the first time since he died",
            1,
            people["frank"],
        )

    v7 = t.visit(
        s[7],
        phq9=12,
        gad7=8,
        reviewed={v6.homework: "done"},
        goals={goals["talk"]: (5, "open"), goals["choir"]: (2, "open")},
        during=workshop,
        note={
            "focus_problem_area": grief,
            "interpersonal_events": "Went into the workshop to read the letter; rang Claire afterwards.",
            "techniques": ["encouragement_of_affect", "self_reflection"],
            "goal_progress": "Talked to Claire about the letter; Claire listened.",
            "homework_review": "Letter finished and read aloud.",
        },
        homework={
            "title": "Ring Pat about the choir",
            "instructions": "Ask when they practise now and whether you could come along.",
            "kind": "communication",
            "person": people["pat"],
        },
        next_start=s[8],
    )
    t.homework_closed(
        t.when(s[8].date() - timedelta(days=4), 17),
        v7.homework,
        True,
        "Pat was so pleased to hear from me. I'm going on Thursday.",
    )

    def back_to_choir():
        t.event(s[8].date() - timedelta(days=5), "Went back to the choir with Pat", 1, people["pat"])  # fmt: skip
        people["pat"] = t.change_person(
            people["pat"], ring=2, contact_frequency="Every Thursday at choir"
        )

    v8 = t.visit(
        s[8],
        phq9=10,
        gad7=7,
        reviewed={v7.homework: "done"},
        goals={goals["talk"]: (6, "open"), goals["choir"]: (5, "open")},
        during=back_to_choir,
        note={
            "focus_problem_area": grief,
            "interpersonal_events": "Back at choir on Thursday; Pat sat with her.",
            "techniques": ["problem_solving", "communication_analysis"],
            "goal_progress": "Choir once; plans to keep going.",
            "homework_review": "Rang Pat.",
        },
        homework={
            "title": "Go to choir practice two weeks running",
            "instructions": "If a hymn is hard, stay in the room for one more verse.",
            "kind": "activity",
            "person": people["pat"],
        },
        next_start=s[9],
    )
    t.homework_closed(
        t.when(s[9].date() - timedelta(days=1), 20),
        v8.homework,
        True,
        "Went both weeks. Hard when they sang his favourite hymn, but I stayed.",
    )

    def sorted_workshop():
        t.event(s[9].date() - timedelta(days=2), "Sorted Frank's tools with Claire", 1, people["claire"])  # fmt: skip

    # From the ninth session she fills in her questionnaires in the portal the evening before
    # (her "My progress" page shows them; the ones taken in sessions stay her therapist's).
    t.self_report(t.when(s[9].date() - timedelta(days=1), 20, 30), "phq9", 9)
    t.self_report(t.when(s[9].date() - timedelta(days=1), 20, 35), "gad7", 6)
    v9 = t.visit(
        s[9],
        reviewed={v8.homework: "done"},
        goals={goals["talk"]: (7, "open"), goals["choir"]: (6, "open")},
        during=sorted_workshop,
        note={
            "focus_problem_area": grief,
            "interpersonal_events": "Claire came for the weekend; they sorted the tools together and kept his chisels.",
            "techniques": ["encouragement_of_affect", "clarification"],
            "goal_progress": "Talks about Frank with Claire now, not only with Jean.",
            "homework_review": "Choir both weeks.",
        },  # fmt: skip
        homework={
            "title": "Plan Sunday lunch with Claire",
            "instructions": "Cook one of Frank's favourites and invite her.",
            "kind": "activity",
            "person": people["claire"],
        },
        next_start=s[10],
    )
    t.homework_closed(
        t.when(s[10].date() - timedelta(days=2), 19),
        v9.homework,
        True,
        "Made his shepherd's pie. We talked about him all afternoon.",
    )
    t.self_report(t.when(s[10].date() - timedelta(days=1), 20), "phq9", 8)
    t.self_report(t.when(s[10].date() - timedelta(days=1), 20, 5), "gad7", 6)
    v10 = t.visit(
        s[10],
        reviewed={v9.homework: "done"},
        goals={goals["talk"]: (7, "open"), goals["choir"]: (7, "open")},
        note={
            "focus_problem_area": grief,
            "interpersonal_events": "Sunday lunch with Claire; a good week at choir.",
            "techniques": ["self_reflection", "problem_solving"],
            "goal_progress": "Both goals well on the way. Talked about ending: sessions fortnightly from now.",
            "homework_review": "Lunch with Claire went well.",
        },  # fmt: skip
        advance=True,
        homework={
            "title": "Notice early warning signs over the next fortnight",
            "instructions": "Write down any day that feels like the bad months, and what helped.",
            "kind": "log",
        },
        next_start=s[11],
    )
    t.homework_closed(
        t.when(s[11].date() - timedelta(days=2), 21),
        v10.homework,
        True,
        "A bad night on his birthday, but I rang Jean the next morning and it passed.",
    )

    def relapse_plan():
        relapse_plan_save(
            course=t.course,
            by=t.therapist,
            expected_version=None,
            supports=[people["claire"], people["jean"], people["pat"]],
            warning_signs=(
                "Waking at four for more than a week; missing choir; not answering Claire's "
                "calls; keeping away from the workshop again."
            ),
            coping_strategies=(
                "Choir on Thursdays. Talk about Frank when I miss him, especially with Jean. "
                "Sunday lunch with Claire once a month. Write to Frank when the anger comes back."
            ),
            if_symptoms_return=(
                f"Ring Claire or Jean the same day. If two weeks go by like that, phone "
                f"{t.clinic.name} on {t.clinic.phone} or see the GP and ask for a booster session."
            ),
            maintenance_offered=True,
            maintenance_notes="Three monthly booster sessions offered; she will decide at the last session.",
        )  # fmt: skip

    t.self_report(t.when(s[11].date() - timedelta(days=1), 20), "phq9", 7)
    t.self_report(t.when(s[11].date() - timedelta(days=1), 20, 5), "gad7", 5)
    t.self_report(t.when(s[11].date() - timedelta(days=1), 20, 10), "wsas", 8)
    t.visit(
        s[11],
        reviewed={v10.homework: "done"},
        goals={goals["talk"]: (8, "open"), goals["choir"]: (8, "open")},
        during=relapse_plan,
        note={
            "gains_reviewed": (
                "PHQ-9 down from 19 to 7. Talks about Frank with Claire and Jean, is back at "
                "choir, and the workshop is sorted."
            ),
            "feelings_about_ending": (
                "Worried about managing without the sessions, and proud of what she has done; "
                "named the sadness of another ending."
            ),
            "plan_progress": "Relapse-prevention plan written together; she will read it in the portal.",
            "homework_review": "One bad night, handled.",
        },  # fmt: skip
        homework={
            "title": "Read your relapse-prevention plan",
            "instructions": "Read it in the portal and mark anything you would change before our last session.",
            "kind": "reading",
        },  # fmt: skip
        next_start=s[12],
    )
    t.finish()


# --- NG-0002: role dispute, problem-solving strategies, an open risk flag -----------------


def rachel(t: Teller) -> None:
    """Rachel Kemp, 36, ward sister, married to Marcus; their rows about who runs the home
    since she went back full time end in silence. Sixteen weekly sessions agreed; nine held
    and one missed after a row. The dispute has moved from impasse to renegotiation. Just now
    she filled in the PHQ-9 in the portal before her next session, with item 9 positive."""
    last = t.last_weekday(3, 4)  # Thursdays (Fridays when seeded on a Thursday)
    s = {number: t.when(last - timedelta(days=7 * (10 - number)), 17) for number in range(1, 12)}

    t.open_record(
        s[1] - timedelta(days=10, hours=5),
        record_number="NG-0002",
        first_name="Rachel",
        last_name="Kemp",
        date_of_birth=date(1990, 7, 22),
        email="rachel.kemp@example.org",
        phone="+44 7700 900202",
        preferred_channel="email",
    )
    first = s[1].date()
    t.open_course(
        s[1] - timedelta(days=7, hours=1),
        first_session=s[1],
        modality="in_person",
        planned_sessions=16,
        target_diagnosis="Major depressive disorder, single episode, moderate",
        sick_role_note=(
            "Depression as an illness: Marcus does two school runs a week while she recovers, "
            "and she leaves the ward on time."
        ),
        medication_considered=True,
        referral_considered=True,
        medication_referral_notes=(
            "Moderate depression, no medication wanted: IPT alone, GP informed. Couples "
            "therapy considered; Marcus not willing for now."
        ),
    )
    t.visit(
        s[1],
        phq9=17,
        gad7=14,
        during=t.give_portal_link,
        note={
            "symptoms_reviewed": (
                "Low mood and irritability for six months; tearful at work; sleeping badly; "
                "no pleasure in anything. PHQ-9 17, GAD-7 14. No thoughts of self-harm."
            ),
            "sick_role": "Depression explained as an illness; she will ask Marcus to do two school runs a week.",
            "contract": "IPT explained; Rachel keen to start.",
            "narrative": "Ward sister, back full time for eight months. Married to Marcus; their daughter Evie is seven.",
        },  # fmt: skip
        next_start=s[2],
    )
    t.visit(
        s[2],
        phq9=16,
        gad7=13,
        during=lambda: t.change_course(contract_agreed_on=s[2].date()),
        note={
            "symptoms_reviewed": "PHQ-9 16. Marcus did one of the two school runs.",
            "sick_role": "Understands she is unwell, not failing.",
            "contract": "Sixteen weekly sessions agreed, at five on her day off the ward.",
        },
        advance=True,
        next_start=s[3],
    )

    people = {}

    def inventory():
        people["marcus"] = t.person(
            name="Marcus",
            kind="partner",
            ring=1,
            contact_frequency="Every day",
            shared_activities="Evie; used to cycle together at weekends.",
            satisfying="A good dad; they used to share everything.",
            unsatisfying="Now they only talk about logistics, and rows end with him going out to the garage.",
            patient_expectations="To take on half of the home now she works full time",
            their_expectations="That things run at home as they did before",
            expectations_met="no",
            disputes="Who does what at home; each row ends in silence for days.",
            knows_about_depression=False,
            wants_to_change="Talk without it becoming a row",
            changed_near_onset=True,
            change_when="Since she went back full time",
            is_support=False,
        )  # fmt: skip
        people["evie"] = t.person(
            name="Evie", kind="child", ring=1, contact_frequency="Every day",
            satisfying="Funny and affectionate.", unsatisfying="Has started asking why they shout.",
        )  # fmt: skip
        people["mum"] = t.person(
            name="Mum",
            kind="parent",
            ring=2,
            contact_frequency="Several times a week",
            satisfying="Always on her side.",
            unsatisfying="Takes her side against Marcus, which makes it worse.",
            is_support=True,
        )
        people["jo"] = t.person(
            name="Jo",
            kind="friend",
            ring=2,
            contact_frequency="Every few weeks",
            satisfying="Listens without taking sides.",
            wants_to_change="See her more often",
            is_support=True,
        )
        people["priti"] = t.person(
            name="Priti",
            kind="colleague",
            ring=3,
            contact_frequency="On shift",
            satisfying="A fair manager.",
            unsatisfying="The rota changes at short notice.",
        )
        marcus = people["marcus"]
        t.event(first - timedelta(days=240), "Went back to full-time work on the ward", -1)
        t.event(first - timedelta(days=210), "Marcus's hours cut at the garage", -1, marcus)
        t.event(first - timedelta(days=90), "Row with Marcus at Evie's birthday party, in front of both families", -2, marcus)  # fmt: skip
        t.event(first - timedelta(days=60), "Started sleeping in the spare room", -2, marcus)

    v3 = t.visit(
        s[3],
        phq9=16,
        gad7=13,
        during=inventory,
        note={
            "inventory_work": (
                "Marcus, Evie, her mum, her friend Jo and Priti at work. The rows with Marcus "
                "began when she went back full time; her mum takes her side."
            ),
            "narrative": "Angry and tearful talking about Marcus; wants the marriage to work.",
        },
        homework=lambda: {
            "title": "Log the arguments with Marcus this week",
            "instructions": "What started each one, and how it ended.",
            "kind": "log",
            "person": people["marcus"],
        },
        next_start=s[4],
    )
    t.homework_closed(
        t.when(s[4].date() - timedelta(days=1), 22),
        v3.homework,
        True,
        "Five rows in a week. All about who does what, all ending with him going to the garage.",
    )

    areas, goals = {}, {}

    def formulation():
        areas["dispute"] = t.area(
            kind="role_dispute",
            other_party=people["marcus"],
            dispute_stage="impasse",
            non_reciprocal_expectations=(
                "She expects him to take on half the home now that she works full time; he "
                "expects the home to run as it did when she worked part time."
            ),
            dispute_options=(
                "Talk it through on a set evening; split the school runs and evenings; a "
                "cleaner once a week; couples counselling if talking fails."
            ),
            notes=(
                "Expectations that no longer match: since Rachel went back full time she "
                "expects Marcus to take on half the home; he expects it to run as before. "
                "When the course began both had stopped trying and the rows ended in "
                "silence: an impasse (the stage at each session is its history)."
            ),
        )
        goals["need"] = t.goal(areas["dispute"], "Tell Marcus one thing I need each week without it turning into a row")  # fmt: skip
        goals["share"] = t.goal(areas["dispute"], "Agree with Marcus who does which school runs and evenings")  # fmt: skip
        t.change_course(
            formulation=(
                "Rachel's depression started as her role at home and at work changed and she "
                "and Marcus fell into a dispute about it that has reached an impasse. We will "
                "work on the role dispute: understanding what each expects, and finding ways "
                "to talk about it that do not end in silence."
            ),
            formulation_agreed_on=s[4].date(),
        )
        t.focus = areas["dispute"]

    v4 = t.visit(
        s[4],
        phq9=15,
        gad7=12,
        reviewed={v3.homework: "done"},
        during=formulation,
        note={
            "inventory_work": "Went through the week's log: every row was about the home.",
            "formulation_discussed": "Formulation agreed: a role dispute with Marcus, at an impasse.",
            "homework_review": "Log kept all week.",
        },
        advance=True,
        homework={
            "title": "Write down what you said in the next disagreement with Marcus",
            "instructions": "As close to the words as you can, his and yours.",
            "kind": "log",
            "person": people["marcus"],
        },
        next_start=s[5],
    )
    dispute = areas["dispute"]
    t.homework_closed(
        t.when(s[5].date() - timedelta(days=2), 21),
        v4.homework,
        True,
        "I said 'you never help'. He heard 'you're useless'.",
    )
    v5 = t.visit(
        s[5],
        phq9=14,
        gad7=11,
        reviewed={v4.homework: "done"},
        goals={goals["need"]: (1, "open"), goals["share"]: (0, "open")},
        note={
            "focus_problem_area": dispute,
            "interpersonal_events": "A row on Sunday about the washing, written down word for word.",
            "techniques": ["communication_analysis", "clarification"],
            "goal_progress": "Sees how her opening words start the row.",
            "homework_review": "Brought the words of Sunday's row.",
        },  # fmt: skip
        homework={
            "title": "Ask Marcus for twenty minutes on Sunday to talk about the week",
            "instructions": "Use the opening we practised: 'I'd like us to sort out the week together.'",
            "kind": "communication",
            "person": people["marcus"],
        },  # fmt: skip
        next_start=s[6],
    )
    t.stage(dispute, s[5], "impasse", "Rows end with Marcus in the garage and nothing said after.")
    t.homework_closed(
        t.when(s[6].date() - timedelta(days=3), 20),
        v5.homework,
        False,
        "I asked, but he said he was too tired. I didn't ask again.",
    )
    v6 = t.visit(
        s[6],
        phq9=13,
        wsas=15,
        gad7=11,
        reviewed={v5.homework: "not_done"},
        goals={goals["need"]: (2, "open"), goals["share"]: (1, "open")},
        note={
            "focus_problem_area": dispute,
            "interpersonal_events": "Asked Marcus for a talk; he said he was tired, and she let it drop.",
            "techniques": ["role_play", "communication_analysis"],
            "goal_progress": "Role-played asking again when he says no.",
            "homework_review": "Asked once; not taken up.",
        },  # fmt: skip
        homework={
            "title": "Ask Marcus again for a Sunday talk",
            "instructions": "If he says no, ask when would suit him instead.",
            "kind": "communication",
            "person": people["marcus"],
        },
        next_start=s[7],
    )
    t.stage(dispute, s[6], "impasse", "She asked for a talk once, he was tired, she let it drop.")
    t.missed(s[7])
    t.homework_closed(
        t.when(s[7].date() + timedelta(days=1), 21, 30),
        v6.homework,
        False,
        "We had a huge row on Saturday and I couldn't face coming on Thursday.",
    )
    t.at(s[7] + timedelta(days=1, hours=5))
    t.book(s[8], modality="in_person")
    v8 = t.visit(
        s[8],
        phq9=16,
        gad7=13,
        reviewed={v6.homework: "not_done"},
        goals={goals["need"]: (2, "open"), goals["share"]: (1, "open")},
        note={
            "focus_problem_area": dispute,
            "interpersonal_events": (
                "Missed last week after a row on the Saturday. Looked at whether the dispute "
                "is heading for separation: Rachel does not want that; she wants things to change."
            ),
            "techniques": ["encouragement_of_affect", "decision_analysis"],
            "goal_progress": "Decided what she wants: to stay, and for things to change.",
            "homework_review": "Not done: the row got in the way.",
            "risk_notes": "Asked directly about hopelessness after the row: none now.",
        },
        homework={
            "title": "Ask Marcus for twenty minutes on Sunday, and when would suit him",
            "instructions": "Start with what you want for the three of you, not with what went wrong.",
            "kind": "communication",
            "person": people["marcus"],
        },  # fmt: skip
        next_start=s[9],
    )
    t.homework_entry(
        t.when(s[9].date() - timedelta(days=5), 21, 30),
        v8.homework,
        said=(
            "Could we have twenty minutes on Sunday, just us, once Evie is in bed? I want us "
            "to work out how the weeks could go better for all three of us."
        ),
        response=(
            "He looked wary and asked if this was about Saturday. When I said no, about how we "
            "run the week, he said yes: Sunday at eight."
        ),
        feeling=6,
        next_time="Ask at a calm moment again, not the minute he walks in from work.",
    )
    t.homework_closed(
        t.when(s[9].date() - timedelta(days=3), 21),
        v8.homework,
        True,
        "He said yes. We talked about money first, then about Evie. Nobody shouted.",
    )

    t.stage(dispute, s[8], "impasse", "A huge row on Saturday, then the missed session: neither is trying.")  # fmt: skip

    def renegotiation():
        t.stage(dispute, s[9], "renegotiation", "The first Sunday talk in months; both want to change how the week runs.")  # fmt: skip
        t.event(s[9].date() - timedelta(days=4), "First Sunday talk with Marcus", 1, people["marcus"])  # fmt: skip
        people["marcus"] = t.change_person(people["marcus"], expectations_met="partly")

    v9 = t.visit(
        s[9],
        phq9=14,
        gad7=11,
        reviewed={v8.homework: "done"},
        goals={goals["need"]: (5, "open"), goals["share"]: (3, "open")},
        during=renegotiation,
        note={
            "focus_problem_area": dispute,
            "interpersonal_events": "The first Sunday talk in months; they agreed to do it weekly.",
            "techniques": ["role_play", "problem_solving"],
            "goal_progress": "The dispute has moved on: both are talking about what to change (renegotiation).",
            "homework_review": "The Sunday talk happened.",
        },  # fmt: skip
        homework={
            "title": "Sunday talk: agree who does Tuesday and Thursday evenings",
            "instructions": "One thing each of you will take on. Write down what you agree.",
            "kind": "communication",
            "person": people["marcus"],
        },
        next_start=s[10],
    )
    t.review(
        s[9],
        goals_progress=(
            "Telling Marcus what she needs: 5/10, most weeks now. Sharing the evenings: 3/10, "
            "first agreed this week. PHQ-9 17 at the start, 16 after the row, 14 today."
        ),
        focus="kept",
        focus_reason="The dispute with Marcus has just moved from impasse to renegotiation: the work is paying off.",
        plan=(
            "Sessions 10 to 13 on the renegotiation (who does what, money, time for the two "
            "of them); termination from session 14, with the plan for rows that come back."
        ),
    )  # fmt: skip
    # Set from session 9's page after the note was signed: a week's log of her mood beside
    # who she was with, reviewed in session 10 (the patient's entries are read-only since).
    t.at(s[9] + timedelta(hours=2, minutes=10))
    mood_log = assignment_set(
        session=v9.session,
        by=t.therapist,
        title="Each evening: your mood, and who you spent time with",
        instructions="A line or two a day: mood from 0 to 10, who you were with, what happened.",
        kind="log",
        relationship=None,
        problem_area=dispute,
        due_date=s[10].date() - timedelta(days=1),
    )
    log_days = [
        (1, 4, "Marcus, Evie", "Quiet evening. We did not talk much but it was not tense."),
        (2, 3, "The ward team", "Long shift, home late. Marcus had done bath and bed."),
        (3, 5, "Marcus", "Our weekly talk: agreed he does Tuesdays and the Thursday school run."),
        (4, 5, "Evie, my friend Jo", "Park with Evie, Jo came for tea. Laughed for the first time in ages."),
        (5, 6, "Marcus, Evie", "Marcus did Tuesday evening without being asked twice."),
        (6, 5, "The ward team, Marcus", "Tired after work; we watched something together."),
    ]  # fmt: skip

    def log_entries(days):
        for day, mood, who, happened in days:
            t.homework_entry(
                t.when(s[9].date() + timedelta(days=day), 21, 30),
                mood_log,
                entry_date=s[9].date() + timedelta(days=day),
                mood=mood,
                people=who,
                happened=happened,
            )

    log_entries(log_days[:3])
    t.homework_closed(
        t.when(s[10].date() - timedelta(days=3), 21),
        v9.homework,
        True,
        "We agreed he does Tuesdays and the Thursday school run. He did Tuesday.",
    )
    log_entries(log_days[3:])
    t.homework_closed(
        t.when(s[10].date() - timedelta(days=1), 21, 45),
        mood_log,
        True,
        "Better on the days Marcus and I had talked.",
    )
    t.visit(
        s[10],
        phq9=12,
        gad7=10,
        reviewed={v9.homework: "done", mood_log: "done"},
        goals={goals["need"]: (6, "open"), goals["share"]: (5, "open")},
        note={
            "focus_problem_area": dispute,
            "interpersonal_events": "Marcus did Tuesday evening and the Thursday school run.",
            "techniques": ["communication_analysis", "problem_solving"],
            "goal_progress": "A fair split is starting to hold.",
            "homework_review": "Agreed the evenings with Marcus.",
        },
        homework={
            "title": "Keep the Sunday talk going",
            "instructions": "Note one thing that went well this week, and say it to Marcus.",
            "kind": "communication",
            "person": people["marcus"],
        },
        next_start=s[11],
    )
    t.stage(dispute, s[10], "renegotiation", "Marcus did Tuesday evening and the Thursday school run; the Sunday talk holds.")  # fmt: skip
    # Between sessions: she fills in the PHQ-9 before the next one. Item 9 is positive.
    t.self_report(t.clock.real_now - timedelta(minutes=5), "phq9", 15, item9=1)
    t.finish()


# --- NG-0003: role transition, social assessment -----------------------------------------


def priya(t: Teller) -> None:
    """Priya Shah, 31, hospital pharmacist on maternity leave with her first baby, Anaya,
    five months old when she was referred. Twelve weekly video sessions agreed (during the
    baby's nap); four held. The social assessment has named the problem area, a role
    transition; the formulation is to be agreed next time."""
    last = t.last_weekday(2, 3)  # Wednesdays (Thursdays when seeded on a Wednesday)
    s = {number: t.when(last - timedelta(days=7 * (4 - number)), 13) for number in range(1, 6)}
    first = s[1].date()
    born = first - timedelta(days=150)

    t.open_record(
        s[1] - timedelta(days=12, hours=2),
        record_number="NG-0003",
        first_name="Priya",
        last_name="Shah",
        date_of_birth=date(1994, 11, 5),
        email="priya.shah@example.org",
        phone="+44 7700 900303",
        preferred_channel="email",
    )
    t.open_course(
        s[1] - timedelta(days=7, hours=-1),
        first_session=s[1],
        modality="video",
        planned_sessions=12,
        target_diagnosis="Major depressive disorder, single episode, with postnatal onset",
        sick_role_note="Depression after a birth is common and treatable, not a failure as a mother.",
        medication_considered=True,
        referral_considered=True,
        medication_referral_notes=(
            "Breastfeeding; she prefers no medication for now, and her GP agrees to review. "
            "The perinatal mental health team was considered: not needed at this severity."
        ),
    )
    t.visit(
        s[1],
        phq9=16,
        gad7=13,
        during=t.give_portal_link,
        note={
            "symptoms_reviewed": (
                "Low mood, tearfulness and guilt since about six weeks after Anaya was born; "
                "anxious when she wakes; feels she is failing as a mother. PHQ-9 16, GAD-7 13. "
                "No thoughts of harming herself or the baby."
            ),
            "sick_role": "Accepted her mum's offer to come and stay for a week.",
            "contract": "IPT explained; video sessions while Anaya naps.",
            "narrative": "Referred by her health visitor. Anaya was in the room, asleep.",
        },
        modality="video",
        next_start=s[2],
    )
    t.visit(
        s[2],
        phq9=15,
        gad7=13,
        during=lambda: t.change_course(contract_agreed_on=s[2].date()),
        note={
            "symptoms_reviewed": "PHQ-9 15. Her mum's week helped; sleeping a little more.",
            "sick_role": "Letting her mum and Sam do more without feeling guilty.",
            "contract": "Twelve weekly video sessions agreed.",
        },
        advance=True,
        modality="video",
        next_start=s[3],
    )

    people = {}

    def inventory():
        people["sam"] = t.person(
            name="Sam",
            kind="partner",
            ring=1,
            contact_frequency="Every day",
            satisfying="Loving with Anaya; makes her laugh when he is home.",
            unsatisfying="Works long hours; she does not feel she can ask for more.",
            patient_expectations="To notice when she is struggling",
            their_expectations="That she tells him what she needs",
            expectations_met="partly",
            knows_about_depression=True,
            wants_to_change="Ask him for help without feeling a failure",
            changed_near_onset=True,
            change_when="Back at work two weeks after the birth",
            is_support=True,
        )
        people["anaya"] = t.person(
            name="Anaya",
            kind="child",
            ring=1,
            contact_frequency="Every day",
            satisfying="Her smiles in the morning.",
            unsatisfying="Feeding takes all day; Priya feels she gets it wrong.",
        )
        people["mum"] = t.person(
            name="Mum",
            kind="parent",
            ring=1,
            contact_frequency="Phones every day from Leicester",
            satisfying="Practical and calm with the baby.",
            unsatisfying="Gives advice she did not ask for.",
            is_support=True,
        )
        people["hollie"] = t.person(
            name="Hollie",
            kind="friend",
            ring=2,
            contact_frequency="Rarely since the maternity leave began",
            shared_activities="Lunch together on every shift at the hospital.",
            satisfying="Knows her as good at her job.",
            wants_to_change="See her again",
            changed_near_onset=True,
            change_when="Since the maternity leave began",
            is_support=True,
        )
        people["beth"] = t.person(
            name="Beth",
            kind="friend",
            ring=3,
            contact_frequency="A few messages",
            satisfying="Met at the antenatal class; also a first-time mother.",
        )
        t.event(born - timedelta(days=14), "Started maternity leave from the hospital pharmacy", -1)
        t.event(born, "Anaya born", 1, people["anaya"])
        t.event(born + timedelta(days=14), "Sam back at work after two weeks' paternity leave", -2, people["sam"])  # fmt: skip
        t.event(first - timedelta(days=60), "Went to one baby group and did not go back", -1, people["beth"])  # fmt: skip

    v3 = t.visit(
        s[3],
        phq9=15,
        gad7=12,
        during=inventory,
        note={
            "inventory_work": (
                "Sam, Anaya, her mum, Hollie from work and Beth from the antenatal class. Since "
                "the birth her days are spent alone with Anaya; Sam is out twelve hours a day."
            ),
            "narrative": "Misses being good at something. Guilty for saying so.",
        },
        homework={
            "title": "Keep a mood and contact log for the week",
            "instructions": "Each evening: mood 0-10, and who you spoke to that day apart from Sam.",
            "kind": "log",
        },  # fmt: skip
        modality="video",
        next_start=s[4],
    )
    t.homework_closed(
        t.when(s[4].date() - timedelta(days=1), 21),
        v3.homework,
        True,
        "Best days were the ones I saw someone. Worst was Wednesday: nobody all day.",
    )
    # The morning of the session, she fills in the PHQ-9 in the portal.
    t.self_report(s[4] - timedelta(hours=3), "phq9", 14)

    def problem_area():
        t.focus = t.area(
            kind="role_transition",
            old_role="Hospital pharmacist: full time, good at her job, friends at work",
            new_role="At home with a first baby, on maternity leave",
            transition_date=born,
            old_role_losses="Feeling competent; colleagues and lunch together; her own money.",
            old_role_gains="No more night shifts on the ward.",
            new_role_losses="Days alone with the baby; sleep; time with Sam.",
            new_role_gains="Time with Anaya that she wanted for years.",
            new_role_skills="Asking for help without feeling she has failed; settling the baby.",
            new_role_supports="Sam in the evenings; her mum; a mother-and-baby group.",
            notes=(
                "Grieves the old role (competence, colleagues, her own money) and feels "
                "unskilled in the new one, with little support during the day."
            ),
        )

    t.visit(
        s[4],
        gad7=11,
        reviewed={v3.homework: "done"},
        during=problem_area,
        note={
            "inventory_work": (
                "What she has lost and gained: lost her work friends, feeling competent and her "
                "own money; gained Anaya, and a closer bond with her mum."
            ),
            "formulation_discussed": "A role transition fits; we will write and agree the formulation next time.",
            "homework_review": "Log kept every day; contact and mood go together.",
        },  # fmt: skip
        homework={
            "title": "What you miss about work, and what you like about being at home",
            "instructions": "Two lists, as long or short as they come.",
            "kind": "log",
        },
        modality="video",
        next_start=s[5],
    )
    t.finish()


# --- NG-0004: interpersonal deficits, initial assessment ---------------------------------


def jamie(t: Teller) -> None:
    """Jamie Lowe, 22, left university after his first year and lives with his mum; few
    friends, long-standing shyness. Two sessions held: assessment, sick role and contract.
    The social assessment starts next session."""
    last = t.last_weekday(0, 1)  # Mondays (Tuesdays when seeded on a Monday)
    s = {number: t.when(last - timedelta(days=7 * (2 - number)), 11) for number in range(1, 4)}
    first = s[1].date()

    t.open_record(
        s[1] - timedelta(days=14, hours=1),
        record_number="NG-0004",
        first_name="Jamie",
        last_name="Lowe",
        date_of_birth=date(2004, 2, 11),
        email="jamie.lowe@example.org",
        phone="+44 7700 900404",
        preferred_channel="sms",
    )
    t.open_course(
        s[1] - timedelta(days=7, hours=-3),
        first_session=s[1],
        modality="in_person",
        planned_sessions=12,
        target_diagnosis="Persistent depressive disorder; social anxiety",
    )

    def assessment():
        t.give_portal_link()
        mum = t.person(
            name="Mum",
            kind="parent",
            ring=1,
            contact_frequency="Every day (lives with her)",
            satisfying="Looks out for him.",
            unsatisfying="Worries out loud; he feels he has let her down.",
            knows_about_depression=True,
            is_support=True,
        )
        t.person(
            name="Megan",
            kind="sibling",
            ring=2,
            contact_frequency="Weekly, when she visits",
            satisfying="Teases him, but kindly.",
            unsatisfying="Her life seems to be going well; he compares himself with her.",
        )
        t.person(
            name="Kai",
            kind="friend",
            ring=3,
            contact_frequency="Most evenings, online",
            shared_activities="Online games.",
            satisfying="Easy to talk to while playing.",
            unsatisfying="They have never met.",
        )
        t.event(first - timedelta(days=420), "Left university after the first year", -2)
        t.event(first - timedelta(days=300), "School friend Ryan moved to Bristol for work", -1)
        t.event(first - timedelta(days=250), "Stopped going to the climbing wall", -1, mum)

    t.visit(
        s[1],
        phq9=15,
        gad7=15,
        during=assessment,
        note={
            "symptoms_reviewed": (
                "Low mood for about two years, worse since leaving university; spends most of "
                "the day in his room gaming; sleeps until noon; thinks people find him boring. "
                "PHQ-9 15, GAD-7 15 (much of it social anxiety). No thoughts of self-harm."
            ),
            "sick_role": "For now, getting up by ten and coming to the sessions is enough.",
            "contract": "IPT explained; he is not sure he can talk about feelings but will try.",
            "narrative": "Came with his mum, who waited outside. Very quiet; more eye contact by the end.",
        },  # fmt: skip
        next_start=s[2],
    )
    t.visit(
        s[2],
        phq9=14,
        gad7=14,
        during=lambda: t.change_course(contract_agreed_on=s[2].date()),
        note={
            "symptoms_reviewed": "PHQ-9 14. Up by ten on four days this week.",
            "sick_role": "Sees the depression as an illness, not laziness; his mum has stopped nagging since reading the leaflet.",
            "contract": (
                "Twelve weekly sessions agreed. The likely focus is interpersonal deficits: few "
                "close relationships, long-standing shyness. The social assessment starts next time."
            ),
        },  # fmt: skip
        homework={
            "title": "Read the leaflet on depression",
            "instructions": "Mark anything that sounds like you, and anything that does not.",
            "kind": "reading",
        },
        next_start=s[3],
    )
    t.finish()


STORIES = (("NG-0001", margaret), ("NG-0002", rachel), ("NG-0003", priya), ("NG-0004", jamie))


def tell_stories(*, clinic: Clinic, therapist: User, real_now: datetime) -> list[Patient]:
    """Tell the stories whose patient is not in the clinic yet, each in its own transaction;
    returns the patients made."""
    existing = set(
        Patient.objects.filter(
            clinic=clinic, record_number__in=[number for number, _ in STORIES]
        ).values_list("record_number", flat=True)
    )
    made = []
    for record_number, story in STORIES:
        if record_number in existing:
            continue
        # The story starts well before its first session; the clock is moved from there.
        clock = StoryClock(start=real_now - timedelta(days=365), real_now=real_now)
        teller = Teller(clinic=clinic, therapist=therapist, clock=clock)
        with transaction.atomic(), clock.running():
            story(teller)
        made.append(teller.patient)
    return made
