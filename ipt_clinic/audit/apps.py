from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ipt_clinic.audit"
    label = "audit"
    verbose_name = "Audit trail"
