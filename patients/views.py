from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ipt_clinic.editing import StaleEditError
from ipt_clinic.submissions.services import AlreadySaved, SubmissionRefused

from . import selectors, services
from .access import get_life_event_for_user, get_patient_for_user, get_relationship_for_user
from .circle import circle_svg
from .forms import (
    LifeEventForm,
    PatientFilterForm,
    PatientForm,
    RelationshipForm,
    add_service_errors,
    clinic_therapists,
)
from .header import Known, with_header_annotations
from .page_html import relationship_rows, timeline_items
from .sections import patient_sections

PAGE_SIZE = 25


def _audit_view(request: HttpRequest, patient, summary: str, target=None) -> None:
    services.record_view(
        request=request,
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        target=target or patient,
        summary=summary,
    )


# An old numbered link reaches its page by skipping rows; a number past any clinic's list
# (or past what the database's LIMIT takes) shows an empty page, not an error.
MAX_PAGE_NUMBER = 10_000


def _page_number(value) -> int:
    try:
        return min(max(1, int(value)), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        return 1


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    filters = PatientFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    # Paged from the previous page's last row, never counted: a clinic admin's list is the
    # whole clinic's.
    page = selectors.patient_list_page(
        user=request.user,
        search=criteria.get("q", ""),
        status=criteria.get("status", ""),
        phase=criteria.get("phase", ""),
        problem_area=criteria.get("problem_area", ""),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        number=_page_number(request.GET.get("page")),
        size=PAGE_SIZE,
    )
    phase_labels = dict(selectors.phase_choices())
    page.object_list = list(page.object_list)
    for patient in page.object_list:
        patient.phase_label = phase_labels.get(patient.current_phase, "")
    services.record_list_view(
        request=request,
        patient_ids=(patient.pk for patient in page.object_list),
        summary=f"Patient list viewed (page {page.number})",
    )
    return render(request, "patients/list.html", {"filters": filters, "page_obj": page})


@login_required
def patient_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.clinic_id is None:
        raise Http404("No clinic.")
    therapists = clinic_therapists(user.clinic) if user.is_clinic_admin else None
    form = PatientForm(request.POST or None, clinic=user.clinic, therapists=therapists)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        fields.setdefault("primary_therapist", user)
        try:
            patient = services.patient_create(
                by=user, clinic=user.clinic, request=request, **fields
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{patient.full_name} added.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": None})


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    # The page names the therapist; the clinic it shows (times, the header's) is the user's.
    # What the header would read of the patient is read along.
    patient = get_patient_for_user(
        request.user,
        patient_id,
        related=("primary_therapist",),
        within=with_header_annotations(),
    )
    page = selectors.patient_page(patient)
    page["circle"] = circle_svg(
        page["circle_people"],
        centre_label=patient.first_name,
        svg_id="circle-now",
        title=f"Closeness circle of {patient.full_name}",
    )
    page["relationship_rows"] = relationship_rows(
        page["relationships"], csrf_token=get_token(request)
    )
    page["timeline_items"] = timeline_items(page["life_events"])
    page["section_templates"] = []
    for template, context in patient_sections(patient, courses=page["courses"]):
        page["section_templates"].append(template)
        page.update(context)
    # The header reads the active course from the courses the page read (all of them).
    page["header_known"] = Known(courses=page["courses"], all_courses=True)
    _audit_view(request, patient, "Patient page viewed")
    return render(request, "patients/detail.html", {"patient": patient, **page})


@login_required
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    form = PatientForm(request.POST or None, instance=patient, clinic=patient.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(
                patient=patient,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Patient details saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    if request.method == "GET":
        _audit_view(request, patient, "Patient details opened for editing")
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient},
        status=409 if form.conflict else 200,
    )


def _status_change(request: HttpRequest, patient_id: int, service, done: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    try:
        service(patient=patient, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{patient.full_name} {done}.")
    return redirect("patients:detail", patient_id=patient.pk)


@login_required
@require_POST
def patient_discharge(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _status_change(request, patient_id, services.patient_discharge, "discharged")


@login_required
@require_POST
def patient_archive(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _status_change(request, patient_id, services.patient_archive, "archived")


@login_required
def patient_history(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id, within=with_header_annotations())
    include_views = request.GET.get("views") == "1"
    events = selectors.patient_history(patient, include_views=include_views)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    _audit_view(request, patient, "Patient history viewed")
    return render(
        request,
        "patients/history.html",
        {"patient": patient, "page_obj": page, "include_views": include_views},
    )


@login_required
def patient_circle(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The circle at the start of a course against the circle at its end (or now)."""
    patient = get_patient_for_user(request.user, patient_id, within=with_header_annotations())
    courses = list(
        patient.courses.filter(clinic_id=patient.clinic_id).order_by("-start_date", "-id")
    )
    course = next((c for c in courses if str(c.pk) == request.GET.get("course")), None)
    course = course or (courses[0] if courses else None)
    snapshots = []
    if course is not None:
        for index, snapshot in enumerate(selectors.circle_snapshots(patient, course)):
            snapshots.append(
                {
                    "label": snapshot.label,
                    "moment": snapshot.moment,
                    "people": snapshot.people,
                    "svg": circle_svg(
                        snapshot.people,
                        centre_label=patient.first_name,
                        svg_id=f"circle-{index}",
                        title=f"{snapshot.label}: closeness circle of {patient.full_name}",
                    ),
                }
            )
    _audit_view(request, patient, "Closeness circle over the course viewed")
    return render(
        request,
        "patients/circle.html",
        {"patient": patient, "courses": courses, "course": course, "snapshots": snapshots},
    )


@login_required
def relationship_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    form = RelationshipForm(
        request.POST or None, form_binding=services.RELATIONSHIP_FORM.bind(patient)
    )
    if request.method == "POST" and form.is_valid():
        try:
            relationship = services.relationship_create(
                patient=patient, by=request.user, request=request, **form.cleaned_data
            )
        except AlreadySaved as saved:
            messages.info(request, saved.message)
            return redirect("patients:detail", patient_id=patient.pk)
        except SubmissionRefused as exc:
            form.refuse(exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{relationship.name} added to the inventory.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/relationship_form.html", {"form": form, "patient": patient})


@login_required
def relationship_edit(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship = get_relationship_for_user(request.user, relationship_id)
    if relationship.removed_at is not None:
        raise Http404("This person was removed from the inventory.")
    patient = relationship.patient
    form = RelationshipForm(request.POST or None, instance=relationship)
    if request.method == "POST" and form.is_valid():
        try:
            services.relationship_update(
                relationship=relationship,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    if request.method == "GET":
        _audit_view(request, patient, "Inventory person opened for editing", relationship)
    return render(
        request,
        "patients/relationship_form.html",
        {"form": form, "patient": patient, "relationship": relationship},
        status=409 if form.conflict else 200,
    )


@login_required
@require_POST
def relationship_remove(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship = get_relationship_for_user(request.user, relationship_id)
    services.relationship_remove(relationship=relationship, by=request.user, request=request)
    messages.success(request, f"{relationship.name} removed from the current circle.")
    return redirect("patients:detail", patient_id=relationship.patient_id)


@login_required
def life_event_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_id)
    form = LifeEventForm(
        request.POST or None,
        patient=patient,
        form_binding=services.LIFE_EVENT_FORM.bind(patient),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.life_event_create(
                patient=patient, by=request.user, request=request, **form.cleaned_data
            )
        except AlreadySaved as saved:
            messages.info(request, saved.message)
            return redirect("patients:detail", patient_id=patient.pk)
        except SubmissionRefused as exc:
            form.refuse(exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Life event added to the timeline.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(request, "patients/life_event_form.html", {"form": form, "patient": patient})


@login_required
def life_event_edit(request: HttpRequest, life_event_id: int) -> HttpResponse:
    event = get_life_event_for_user(request.user, life_event_id)
    if event.removed_at is not None:
        raise Http404("This life event was removed.")
    patient = event.patient
    form = LifeEventForm(request.POST or None, instance=event, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.life_event_update(
                life_event=event,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as exc:
            form.show_conflict(exc.current)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Life event saved.")
            return redirect("patients:detail", patient_id=patient.pk)
    if request.method == "GET":
        _audit_view(request, patient, "Life event opened for editing", event)
    return render(
        request,
        "patients/life_event_form.html",
        {"form": form, "patient": patient, "life_event": event},
        status=409 if form.conflict else 200,
    )


@login_required
@require_POST
def life_event_remove(request: HttpRequest, life_event_id: int) -> HttpResponse:
    event = get_life_event_for_user(request.user, life_event_id)
    services.life_event_remove(life_event=event, by=request.user, request=request)
    messages.success(request, "Life event removed from the timeline.")
    return redirect("patients:detail", patient_id=event.patient_id)
