from django.apps import AppConfig
from django.db.models.signals import post_save


class CaseloadConfig(AppConfig):
    name = "caseload"
    verbose_name = "Caseload review (therapist home, clinic dashboard)"

    def ready(self) -> None:
        from ipt_clinic.accounts.models import User
        from patients import caseload_figures

        from .figures import figures_mark, staff_figures_changed

        caseload_figures.register_listener(figures_mark)
        post_save.connect(staff_figures_changed, sender=User, dispatch_uid="caseload_figures")
