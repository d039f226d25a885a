"""The clinic admin's staff page (invite a therapist or a clinic admin, send an invitation
again, deactivate) and the reassignment page."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ipt_clinic.accounts.models import Role, User
from ipt_clinic.accounts.services import (
    staff_deactivate,
    staff_invite,
    staff_invite_resend,
    staff_invite_withdraw,
)
from ipt_clinic.params import record_id
from patients.models import Patient
from patients.services import record_list_view
from phases.models import CourseStatus

from .admin_access import clinic_admin_required
from .reassign_selectors import patients_of, reassignment_preview
from .review_forms import DeactivateForm, InviteForm, MoveForm, ReassignForm
from .services import caseload_reassign, course_reassign, patient_reassign


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
        {
            "staff": _staff_of(request.user.clinic_id),
            "invite_form": invite_form,
            "invite_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        },
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
                role=form.cleaned_data["role"],
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
def staff_invite_resend_view(request: HttpRequest) -> HttpResponse:
    member = get_object_or_404(
        User, clinic_id=request.user.clinic_id, pk=record_id(request.POST.get("member"))
    )
    try:
        staff_invite_resend(user=member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Invitation queued again for {member.email}, with a new link valid for "
            f"{settings.PASSWORD_RESET_TIMEOUT // 86400} days from when it is sent.",
        )
    return redirect("caseload:staff")


@clinic_admin_required
@require_POST
def staff_invite_withdraw_view(request: HttpRequest) -> HttpResponse:
    member = get_object_or_404(
        User, clinic_id=request.user.clinic_id, pk=record_id(request.POST.get("member"))
    )
    try:
        staff_invite_withdraw(user=member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"The invitation to {member.email} is withdrawn: its link no longer works. "
            "You can invite the address again.",
        )
    return redirect("caseload:staff")


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


@clinic_admin_required
def reassign(request: HttpRequest) -> HttpResponse:
    """GET: the patients of one therapist (``?from=``), each with a reassignment form, and a
    form to move all of them. POST with ``step``: ``preview`` shows what moving one, some or
    all of them would move (their future sessions, each clash with the new therapist's
    calendar), ``confirm`` moves those ticked on the preview. POST without ``step``:
    reassign one course (``course``) or one patient with no active course (``patient``)."""
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

    step = request.POST.get("step") if request.method == "POST" else None
    if step in ("preview", "confirm"):
        if from_therapist is None:
            raise Http404("No such therapist.")
        return _move(request, from_therapist, therapists, confirm=step == "confirm")

    error_form = None
    if request.method == "POST":
        error_form = _reassign_post(request, clinic_id)
        if error_form is None:
            target = reverse("caseload:reassign")
            return redirect(f"{target}?from={from_therapist.pk}" if from_therapist else target)

    return _render_reassign(
        request,
        {
            "therapists": therapists,
            "from_therapist": from_therapist,
            "patients": list(patients_of(clinic_id, from_therapist.pk)) if from_therapist else [],
            "form": error_form or ReassignForm(clinic_id=clinic_id),
        },
    )


def _render_reassign(request: HttpRequest, context: dict) -> HttpResponse:
    """The reassignment page, audited as a look at every patient it names (the therapist's
    list, or the preview's patients)."""
    preview = context.get("preview")
    shown = [move.patient for move in preview.patients] if preview else context["patients"]
    record_list_view(
        request=request,
        patient_ids=(patient.pk for patient in shown),
        summary="Reassignment preview viewed" if preview else "Reassignment list viewed",
    )
    return render(request, "caseload/reassign.html", context)


def _move(request: HttpRequest, from_therapist: User, therapists, *, confirm: bool):
    """The preview of a move of ``from_therapist``'s patients, or (``confirm``) the move of
    those ticked on it; a refused move shows the preview again with the reason."""
    clinic = request.user.clinic
    form = MoveForm(request.POST, clinic_id=clinic.pk, from_therapist=from_therapist)
    preview = None
    if form.is_valid():
        to_therapist = form.cleaned_data["to_therapist"]
        if confirm:
            try:
                moved = caseload_reassign(
                    from_therapist=from_therapist,
                    to_therapist=to_therapist,
                    patients=list(form.cleaned_data["patients"]),
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    notes_signer=request.user
                    if form.cleaned_data["notes_signer"] == "me"
                    else None,
                    request=request,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                count = len(moved.patients)
                messages.success(
                    request,
                    f"{count} patient{'s' if count != 1 else ''} and {moved.future_sessions} "
                    f"future session{'s' if moved.future_sessions != 1 else ''} moved to "
                    f"{to_therapist.display_name}.",
                )
                return redirect(f"{reverse('caseload:reassign')}?from={from_therapist.pk}")
        only = form.cleaned_data["only"]
        preview = reassignment_preview(
            clinic=clinic,
            from_therapist=from_therapist,
            to_therapist=to_therapist,
            patient_ids=[patient.pk for patient in only] if only else None,
        )
    return _render_reassign(
        request,
        {
            "therapists": therapists,
            "from_therapist": from_therapist,
            "preview": preview,
            "move_form": form,
            "patients": [] if preview else list(patients_of(clinic.pk, from_therapist.pk)),
            "form": ReassignForm(clinic_id=clinic.pk),
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
