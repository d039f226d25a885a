"""The demo never reaches a production database.

Its staff share one published password, and a first login goes to authenticator enrolment:
whoever logged in first as a demo clinic admin would enrol their own device and own the
account. So everything that makes demo accounts or prints their logins asks this first, and
production settings (``DEMO_DATA_ALLOWED = False``) make it refuse.
"""

from django.conf import settings


class DemoRefused(Exception):
    """Demo data was asked for under production settings."""


REFUSAL = (
    "Refused: the demo data (staff accounts sharing the published demo password) is never "
    "written to a production database, and these are production settings "
    "(DJANGO_SETTINGS_MODULE={module}). Create real staff accounts as the README's production "
    "section says; run the demo with ipt_clinic.settings.local (make run)."
)


def refuse_in_production() -> None:
    if not getattr(settings, "DEMO_DATA_ALLOWED", True):
        raise DemoRefused(REFUSAL.format(module=settings.SETTINGS_MODULE))
