from django.urls import include, path

from ipt_clinic import health
from ipt_clinic.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("ipt_clinic.accounts.urls")),
    path("patients/", include("patients.urls")),
    path("courses/", include("phases.urls")),
    path("sessions/", include("sessions.urls")),
    path("letters/", include("letters.urls")),
    path("caseload/", include("caseload.urls")),
    path("interop/", include("interop.urls")),
    path("p/", include("portal.urls")),
]

handler403 = "ipt_clinic.errors.forbidden"
handler404 = "ipt_clinic.errors.not_found"
handler500 = "ipt_clinic.db.server_error"
