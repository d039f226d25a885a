"""Reads for the course page, in a fixed number of queries."""

import functools
from collections import defaultdict

from django.db.models import (
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    prefetch_related_objects,
)

from ipt_clinic.urls_by_pk import pk_reverser
from patients.header import NOTHING_KNOWN, Known
from patients.templatetags.course_words import held_words

from . import page_reads
from .dispute_history import stage_history_svg
from .formulation_sharing import UNREAD, shared_formulation
from .maintenance import maintenance_page
from .models import (
    CourseStatus,
    DisputeStageEntry,
    FormulationAnswer,
    Goal,
    MidCourseReview,
    Phase,
    PhaseTransition,
    ProblemArea,
    ProblemAreaKind,
    RelapsePreventionPlan,
    TreatmentCourse,
    phase_order,
)
from .services import (
    completion_checklist,
    course_outcome,
    deficits_warning,
    exit_checklist,
    halfway_session,
    mid_course_review_state,
    next_phase,
)

# What the course page reads of a person of the inventory named by a problem area, and of
# a member of staff named beside an entry: the columns it shows, not their whole rows (a
# column left out would cost a query of its own when read).
_PERSON_SHOWN = ("name", "kind", "died_on")
_STAFF_NAME = ("username", "first_name", "last_name")  # User.display_name


@functools.cache
def _page_reads() -> dict[str, QuerySet]:
    """The course page's reads but for which course: built once per process and only ever
    chained from (``.filter()`` returns a copy), as a generic view's ``queryset`` is."""
    return {
        "goals": Goal.objects.filter(removed_at__isnull=True),
        "areas": ProblemArea.objects.filter(removed_at__isnull=True)
        .select_related("deceased", "other_party")
        .only(
            *(field.name for field in ProblemArea._meta.concrete_fields),
            *(f"deceased__{name}" for name in _PERSON_SHOWN),
            *(f"other_party__{name}" for name in _PERSON_SHOWN),
        ),
        "stage_entries": DisputeStageEntry.objects.select_related("by").only(
            *(field.name for field in DisputeStageEntry._meta.concrete_fields),
            *(f"by__{name}" for name in _STAFF_NAME),
        ),
        "transitions": PhaseTransition.objects.select_related("by").only(
            *(field.name for field in PhaseTransition._meta.concrete_fields),
            *(f"by__{name}" for name in _STAFF_NAME),
        ),
        "other_courses": TreatmentCourse.objects.order_by("-start_date").only(
            "pk", "start_date", "status"
        ),
    }


def course_goals(course: TreatmentCourse) -> list[Goal]:
    """The course's live goals, in the order they were set."""
    return list(_page_reads()["goals"].filter(clinic_id=course.clinic_id, course=course))


def problem_area_rows(course: TreatmentCourse) -> tuple[list[ProblemArea], list]:
    """The course's live problem areas with the persons they name, and its role disputes'
    stage entries in the model's order (by date), each with who recorded it: two queries
    however long the history, one when the course has no role dispute."""
    areas = list(_page_reads()["areas"].filter(clinic_id=course.clinic_id, course=course))
    # Only a role dispute shows its stage history: without one, no query for it.
    disputes = [area.pk for area in areas if area.kind == ProblemAreaKind.ROLE_DISPUTE]
    entries = (
        list(
            _page_reads()["stage_entries"].filter(
                clinic_id=course.clinic_id, problem_area_id__in=disputes
            )
        )
        if disputes
        else []
    )
    return areas, entries


def course_problem_areas(
    course: TreatmentCourse, goals: list[Goal], read: tuple | None = None
) -> list[ProblemArea]:
    """The course's live problem areas, each with its live goals (``live_goals``) from
    ``goals`` and, for a role dispute, its stage history (``stage_history``, oldest first,
    and ``stage_svg``, the history drawn; empty for other kinds). ``read``: the areas and
    entries as ``problem_area_rows`` reads them, when the caller has read them."""
    by_area = defaultdict(list)
    for goal in goals:
        by_area[goal.problem_area_id].append(goal)
    areas, entries = read if read is not None else problem_area_rows(course)
    history = defaultdict(list)
    for entry in entries:
        history[entry.problem_area_id].append(entry)
    # The rows' links, from one reverse() per kind (the template's {% url %} for each).
    area_edit, goal_create, dispute_stage = (
        pk_reverser(name)
        for name in ("phases:problem_area_edit", "phases:goal_create", "phases:dispute_stage")
    )
    goal_edit = pk_reverser("phases:goal_edit")
    for goal in goals:
        goal.edit_url = goal_edit(goal.pk)
    for area in areas:
        area.edit_url = area_edit(area.pk)
        area.goal_create_url = goal_create(area.pk)
        area.dispute_stage_url = dispute_stage(area.pk)
        area.live_goals = by_area.get(area.pk, [])
        area.stage_history = history.get(area.pk, [])
        area.stage_svg = (
            stage_history_svg(
                area.stage_history,
                svg_id=f"stage-history-{area.pk}",
                title=f"The dispute with {area.other_party.name if area.other_party else 'the other party'}, stage by session",
            )
            if area.stage_history
            else ""
        )
    return areas


def course_page_row(courses: QuerySet[TreatmentCourse]) -> QuerySet[TreatmentCourse]:
    """``courses`` with what the course page shows of the rows a course has at most one of,
    joined to the course's own row rather than read one query each: its relapse-prevention
    plan, its mid-course review (``page_review``) and the wording of the formulation shared
    with the patient now (``page_share``, with who shared it). ``page_review_id`` and
    ``page_share_id`` say whether there is one (None: there is none). And whether there is
    anything to read of two lists most courses do not have, so that the page reads them
    only then: the patient's answers to a shared wording (``page_answered``) and their other
    courses (``page_other_courses``)."""
    return (
        courses.select_related("relapse_plan")
        .annotate(
            page_review=FilteredRelation("mid_course_reviews"),
            page_share=FilteredRelation(
                "formulation_shares",
                condition=Q(formulation_shares__withdrawn_at__isnull=True),
            ),
        )
        .annotate(
            page_review_id=F("page_review__id"),
            page_share_id=F("page_share__id"),
            page_answered=Exists(
                FormulationAnswer.objects.filter(
                    clinic_id=OuterRef("clinic_id"), course_id=OuterRef("pk")
                )
            ),
            page_other_courses=Exists(
                TreatmentCourse.objects.filter(
                    clinic_id=OuterRef("clinic_id"), patient_id=OuterRef("patient_id")
                ).filter(~Q(pk=OuterRef("pk")))
            ),
        )
        .select_related("page_review", "page_share__shared_by")
    )


def _relapse_plan(course: TreatmentCourse) -> RelapsePreventionPlan | None:
    """The course's plan with its supports: read already when the course came through
    ``course_page_row``."""
    try:
        plan = course.relapse_plan
    except RelapsePreventionPlan.DoesNotExist:
        return None
    prefetch_related_objects([plan], "supports")
    return plan


def _mid_course_review(course: TreatmentCourse) -> MidCourseReview | None:
    if not hasattr(course, "page_review_id"):  # not read through course_page_row
        return MidCourseReview.objects.filter(clinic_id=course.clinic_id, course=course).first()
    return course.page_review if course.page_review_id is not None else None


def _open_share(course: TreatmentCourse):
    if not hasattr(course, "page_share_id"):  # not read through course_page_row
        return UNREAD
    return course.page_share if course.page_share_id is not None else None


def _other_courses(course: TreatmentCourse) -> list[TreatmentCourse]:
    """The patient's other courses, the latest first (none to read when ``course_page_row``
    found none)."""
    if not getattr(course, "page_other_courses", True):
        return []
    courses = list(
        _page_reads()["other_courses"]
        .filter(clinic_id=course.clinic_id, patient_id=course.patient_id)
        .filter(~Q(pk=course.pk))
    )
    url = pk_reverser("phases:course")
    for other in courses:
        other.url = url(other.pk)
    return courses


def course_page(course: TreatmentCourse) -> dict:
    attended = course.sessions_attended  # kept by the sessions layer as attendance changes
    # Its lists through fixed statements (``page_reads``): the bench's course page target
    # needs them; ``_page_reads``' queries, ``course_goals`` and ``problem_area_rows`` are
    # their reference.
    transitions = page_reads.course_transitions(course)
    plan = _relapse_plan(course)
    goals = page_reads.course_goals(course)
    areas = course_problem_areas(course, goals, page_reads.course_problem_area_rows(course))
    checklist = (
        exit_checklist(course, goals=goals, problem_areas=areas, has_plan=plan is not None)
        if course.status == "active"
        else []
    )
    review = _mid_course_review(course)
    ending = course.phase in (Phase.TERMINATION, Phase.COMPLETED)
    order = phase_order(course)
    current = order.index(course.phase)
    phase_steps = [
        {
            "label": Phase(phase).label,
            "current": index == current and course.status == "active",
            "done": index < current or course.phase == Phase.COMPLETED,
        }
        for index, phase in enumerate(order)
    ]
    return {
        "phase_steps": phase_steps,
        "attended_sessions": attended,
        "problem_areas": areas,
        "deficits_warning": deficits_warning(areas),
        "mid_course_review": review,
        "review_state": mid_course_review_state(course, reviewed=review is not None),
        "halfway_session": halfway_session(course),
        "outcome": course_outcome(course) if ending else None,
        "completion_checklist": completion_checklist(course, goals)
        if ending and course.status == CourseStatus.ACTIVE
        else [],
        "transitions": transitions,
        "relapse_plan": plan,
        "shared_formulation": shared_formulation(
            course,
            open_share=_open_share(course),
            answered=getattr(course, "page_answered", True),
        ),
        "checklist": checklist,
        "unmet": [label for label, met in checklist if not met],
        "next_phase": next_phase(course.phase) if course.status == "active" else None,
        "other_courses": _other_courses(course),
        **maintenance_page(course, plan=plan),
    }


# What the header reads of a course: a course the page read without one of these is read again.
_HEADER_COURSE_FIELDS = (
    "clinic_id",
    "patient_id",
    "phase",
    "status",
    "planned_sessions",
    "sessions_attended",
)


def _known_active_course(patient, known: Known):
    """The patient's active course among the courses the page read (at most one is active:
    ``one_active_course_per_patient``); None when the page read them all and none is;
    ``...`` when the page's courses do not say."""
    for course in known.courses:
        if (
            isinstance(course, TreatmentCourse)
            and course.patient_id == patient.pk
            and not course.get_deferred_fields().intersection(_HEADER_COURSE_FIELDS)
            and course.status == CourseStatus.ACTIVE
        ):
            return course
    return None if known.all_courses else ...


def header_course(patient, *, facts=None, known: Known = NOTHING_KNOWN) -> dict:
    """The patient header's part (``patients.header``): the active course, its phase and how
    far it has come. One query, none when the page read the patient's active course (or all
    their courses)."""
    course = _known_active_course(patient, known)
    if course is ...:
        course = (
            TreatmentCourse.objects.filter(
                clinic_id=patient.clinic_id, patient_id=patient.pk, status=CourseStatus.ACTIVE
            )
            .only("pk", *_HEADER_COURSE_FIELDS)
            .first()
        )
    if course is None:
        return {"course": None}
    return {
        "course": course,
        "held": held_words(held=course.sessions_attended, planned=course.planned_sessions),
    }
