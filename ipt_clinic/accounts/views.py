from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_clinic_admin:
        return redirect("caseload:dashboard")
    return redirect("caseload:therapist_home")
