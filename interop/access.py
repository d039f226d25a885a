"""Who may start and download the clinic-wide exports: an active clinic admin with a clinic,
for their own clinic's jobs only. Anyone else gets 404, as on the clinic admin's other pages
(caseload.admin_access), so the pages do not reveal that they exist."""

from django.http import Http404

from patients.access import RecordRefused

from .models import BulkExport


def require_clinic_admin(user) -> None:
    if not (user.is_active and user.is_clinic_admin and user.clinic_id is not None):
        raise Http404("No such page.")


def get_bulk_export_for_admin(user, job_id) -> BulkExport:
    """One of the admin's clinic's export jobs; otherwise 404 (missing or forbidden alike)."""
    require_clinic_admin(user)
    try:
        return BulkExport.objects.select_related("requested_by").get(
            clinic_id=user.clinic_id, pk=int(job_id)
        )
    except (BulkExport.DoesNotExist, ValueError, TypeError):
        raise RecordRefused("No such export.", model=BulkExport, record_id=job_id) from None
