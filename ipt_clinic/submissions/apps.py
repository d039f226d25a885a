from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "ipt_clinic.submissions"
    label = "submissions"
    verbose_name = "Form submissions (one-time form keys)"
