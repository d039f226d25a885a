from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ipt_clinic.audit.models import AuditAction
from ipt_clinic.audit.services import audit_record
from ipt_clinic.editing import StaleEditError

from . import services
from .access import get_course_for_letter_writer, get_letter_for_its_writer, get_letter_for_user
from .drafting import course_end_date
from .forms import LetterForm
from .models import DischargeLetter, letter_section_label
from .pdf import letter_pdf as render_pdf


def _audit(request: HttpRequest, letter: DischargeLetter, action: str, summary: str) -> None:
    audit_record(
        action=action,
        clinic_id=letter.clinic_id,
        actor=request.user,
        patient_id=letter.course.patient_id,
        target=letter,
        summary=summary,
        request=request,
    )


def _letter_context(letter: DischargeLetter) -> dict:
    course = letter.course
    tz = course.clinic.tz
    return {
        "letter": letter,
        "course": course,
        "patient": course.patient,
        "clinic": course.clinic,
        "sections": [
            (letter_section_label(name), getattr(letter, name)) for name in DischargeLetter.SECTIONS
        ],
        "letter_date": timezone.localdate(letter.signed_at or timezone.now(), timezone=tz),
        "end_date": course_end_date(course),
        "signed_date": timezone.localdate(letter.signed_at, timezone=tz)
        if letter.signed_at
        else None,
    }


@login_required
@require_POST
def letter_create(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_course_for_letter_writer(request.user, course_id)
    try:
        letter = services.letter_draft(course=course, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("phases:course", course_id=course.pk)
    return redirect("letters:edit", letter_id=letter.pk)


@login_required
def letter_detail(request: HttpRequest, letter_id: int) -> HttpResponse:
    letter = get_letter_for_user(request.user, letter_id)
    _audit(request, letter, AuditAction.VIEW, "Discharge letter viewed")
    context = _letter_context(letter)
    context["is_writer"] = letter.course.therapist_id == request.user.pk
    return render(request, "letters/detail.html", context)


@login_required
def letter_edit(request: HttpRequest, letter_id: int) -> HttpResponse:
    letter = get_letter_for_its_writer(request.user, letter_id)
    if letter.is_signed and request.method != "POST":
        messages.info(request, services.SIGNED_MESSAGE)
        return redirect("letters:detail", letter_id=letter.pk)
    form = LetterForm(request.POST or None, instance=letter)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.letter_update(
                letter=letter,
                by=request.user,
                expected_version=form.expected_version,
                request=request,
                **form.edited_values(),
            )
        except StaleEditError as error:
            form.show_conflict(error.current)
            status = 409
        except services.LetterSigned as error:
            form.add_error(None, error.messages[0])
            status = 409
        else:
            messages.success(request, "Letter saved.")
            return redirect("letters:detail", letter_id=letter.pk)
    if request.method == "GET":
        _audit(request, letter, AuditAction.VIEW, "Discharge letter opened for editing")
    return render(
        request,
        "letters/form.html",
        {"form": form, "letter": letter, "course": letter.course, "patient": letter.course.patient},
        status=status,
    )


@login_required
def letter_sign(request: HttpRequest, letter_id: int) -> HttpResponse:
    """GET: the letter as it will be signed, and the button that signs it. POST: sign and
    lock it at the version that page showed."""
    letter = get_letter_for_its_writer(request.user, letter_id)
    if letter.is_signed:
        messages.info(request, services.SIGNED_MESSAGE)
        return redirect("letters:detail", letter_id=letter.pk)
    status = 200
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1
        try:
            services.letter_sign(
                letter=letter, by=request.user, expected_version=version, request=request
            )
        except StaleEditError as error:
            letter = get_letter_for_its_writer(request.user, error.current.pk)
            messages.error(
                request,
                "The letter was changed since this page was opened, so it was not signed. "
                "Read it again below before you sign.",
            )
            status = 409
        except services.LetterSigned:
            messages.info(request, services.SIGNED_MESSAGE)
            return redirect("letters:detail", letter_id=letter.pk)
        else:
            messages.success(request, "Letter signed and locked.")
            return redirect("letters:detail", letter_id=letter.pk)
    else:
        _audit(request, letter, AuditAction.VIEW, "Discharge letter opened for signing")
    return render(request, "letters/sign_confirm.html", _letter_context(letter), status=status)


@login_required
def letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    letter = get_letter_for_user(request.user, letter_id)
    pdf = render_pdf(_letter_context(letter))
    _audit(request, letter, AuditAction.EXPORT, "Discharge letter downloaded as PDF")
    response = HttpResponse(pdf, content_type="application/pdf")
    state = "signed" if letter.is_signed else "draft"
    response["Content-Disposition"] = (
        f'attachment; filename="discharge-letter-{letter.pk}-{state}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response
