"""The clinic admin's staff page (invite, deactivate) and the reassignment page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ipt_clinic.accounts.models import Role, User
from ipt_clinic.accounts.services import staff_deactivate, staff_invite
from ipt_clinic.params import record_id
from patients.models import Patient, PatientStatus
from phases.models import CourseStatus, TreatmentCourse

from .admin_access import clinic_admin_required
from .review_forms import DeactivateForm, InviteForm, ReassignForm
from .services import course_reassign, patient_reassign


def _staff_of(clinic_id: int):
    return (
        User.objects.filter(clinic_id=clinic_id)
        .annotate(
            active_courses=Count(
                "courses",
                filter=Q(courses__status=CourseStatus.ACTIVE, courses__clinic_id=clinic_id),
                distinct=True,
            )
        )
        .order_by("role", "last_name", "first_name", "pk")
    )


def _render_staff(request: HttpRequest, invite_form: InviteForm, status: int = 200):
    return render(
        request,
        "caseload/staff.html",
        {"staff": _staff_of(request.user.clinic_id), "invite_form": invite_form},
        status=status,
    )


@clinic_admin_required
def staff(request: HttpRequest) -> HttpResponse:
    return _render_staff(request, InviteForm())


@clinic_admin_required
@require_POST
def staff_invite_view(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            user = staff_invite(
                clinic=request.user.clinic,
                email=form.cleaned_data["email"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                role=Role.THERAPIST,
                by=request.user,
            )
        except ValidationError as error:
            by_field = (
                error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            )
            for field_name, errors in by_field.items():
                for message in errors:
                    form.add_error(field_name if field_name in form.fields else None, message)
        else:
            # Queued, not sent: the outbox sends it (and retries while the mail server is
            # down); a failure shows on the operations page, where it can be sent again.
            messages.success(
                request,
                f"Invitation queued for {user.email}. It goes out within a minute or two; "
                "if it cannot be delivered, the Operations page says so.",
            )
            return redirect("caseload:staff")
    return _render_staff(request, form, status=200)


@clinic_admin_required
@require_POST
def staff_deactivate_view(request: HttpRequest) -> HttpResponse:
    form = DeactivateForm(request.POST, clinic_id=request.user.clinic_id, by=request.user)
    if not form.is_valid():
        messages.error(request, "That member of staff cannot be deactivated here.")
        return redirect("caseload:staff")
    member = form.cleaned_data["member"]
    reassign_page = f"{reverse('caseload:reassign')}?from={member.pk}"
    # Reassignment first: an active course keeps its therapist until it is moved, and its
    # future sessions move with it (caseload.services), so nothing is left booked with
    # someone who can no longer log in.
    still_treating = member.courses.filter(
        clinic_id=request.user.clinic_id, status=CourseStatus.ACTIVE
    ).count()
    if still_treating:
        messages.error(
            request,
            f"{member.display_name} still has {still_treating} active course(s): reassign "
            "them first, then deactivate.",
        )
        return redirect(reassign_page)
    member = staff_deactivate(user=member, by=request.user)
    messages.success(request, f"{member.display_name} is deactivated and logged out.")
    return redirect(reassign_page)


def _patients_of(clinic_id: int, therapist_id: int):
    """The patients still with ``therapist_id`` (not archived), with their active course."""
    active_courses = TreatmentCourse.objects.filter(
        clinic_id=clinic_id, status=CourseStatus.ACTIVE
    ).select_related("therapist")
    return (
        Patient.objects.filter(clinic_id=clinic_id, primary_therapist_id=therapist_id)
        .exclude(status=PatientStatus.ARCHIVED)
        .prefetch_related(Prefetch("courses", queryset=active_courses, to_attr="active_courses"))
        .order_by("last_name", "first_name", "pk")
    )


@clinic_admin_required
def reassign(request: HttpRequest) -> HttpResponse:
    """GET: the patients of one therapist (``?from=``), each with a reassignment form.
    POST: reassign one course (``course``) or one patient with no active course
    (``patient``) to another therapist of the clinic."""
    clinic_id = request.user.clinic_id
    therapists = User.objects.filter(clinic_id=clinic_id, role=Role.THERAPIST).order_by(
        "last_name", "first_name", "pk"
    )
    from_id = request.GET.get("from") or request.POST.get("from")
    from_therapist = None
    if from_id:
        try:
            from_therapist = therapists.get(pk=record_id(from_id))
        except User.DoesNotExist:
            raise Http404("No such therapist.") from None

    error_form = None
    if request.method == "POST":
        error_form = _reassign_post(request, clinic_id)
        if error_form is None:
            target = reverse("caseload:reassign")
            return redirect(f"{target}?from={from_therapist.pk}" if from_therapist else target)

    return render(
        request,
        "caseload/reassign.html",
        {
            "therapists": therapists,
            "from_therapist": from_therapist,
            "patients": _patients_of(clinic_id, from_therapist.pk) if from_therapist else [],
            "form": error_form or ReassignForm(clinic_id=clinic_id),
        },
    )


def _reassign_post(request: HttpRequest, clinic_id: int) -> ReassignForm | None:
    """Apply one reassignment; the form with its errors when it cannot be applied."""
    data = request.POST.copy()
    patient = None
    if not data.get("course") and data.get("patient"):
        try:
            patient = Patient.objects.get(clinic_id=clinic_id, pk=int(data["patient"]))
        except (Patient.DoesNotExist, ValueError, TypeError):
            raise Http404("No such patient.") from None
        data["course"] = ""
    form = ReassignForm(data, clinic_id=clinic_id)
    if patient is not None:
        form.fields["course"].required = False
    if not form.is_valid():
        return form
    notes_signer = request.user if form.cleaned_data["notes_signer"] == "me" else None
    try:
        if patient is not None:
            patient_reassign(
                patient=patient,
                to_therapist=form.cleaned_data["to_therapist"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                notes_signer=notes_signer,
                request=request,
            )
            name = patient.full_name
        else:
            course = course_reassign(
                course=form.cleaned_data["course"],
                to_therapist=form.cleaned_data["to_therapist"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                notes_signer=notes_signer,
                request=request,
            )
            name = course.patient.full_name
    except ValidationError as error:
        form.add_error(None, error)
        return form
    messages.success(
        request, f"{name} is now with {form.cleaned_data['to_therapist'].display_name}."
    )
    return None
