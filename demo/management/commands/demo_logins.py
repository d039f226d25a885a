"""``manage.py demo_logins [--address URL]``: the few lines a new user of the demo needs,
printed by ``make run`` once the web app and the worker have started (their logs push
``seed_demo``'s longer report off the screen): the address, one login per role and the demo
patient's portal link."""

from django.core.management.base import BaseCommand, CommandError

from demo import clinics, seed
from demo.guard import DemoRefused, refuse_in_production
from ipt_clinic.accounts.models import User
from patients.models import Patient


class Command(BaseCommand):
    help = "Print the demo's address, one login per role and the demo patient's portal link."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address", default="", help="Where the app answers, e.g. http://127.0.0.1:8000"
        )

    def handle(self, *args, address: str, **options):
        try:
            refuse_in_production()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[clinics.TOUR_THERAPIST, clinics.TOUR_ADMIN])
        }
        if len(users) < 2:
            raise CommandError("No demo data here: run `make demo` (manage.py seed_demo) first.")
        therapist, admin = users[clinics.TOUR_THERAPIST], users[clinics.TOUR_ADMIN]
        slug, record_number = seed.PORTAL_PATIENT
        patient = Patient.objects.filter(clinic__slug=slug, record_number=record_number).first()
        url = clinics.demo_portal_url(patient)
        password = clinics.DEMO_PASSWORD
        lines = []
        if address:
            lines.append(f"  IPT Clinic is running at {address}")
        lines += [
            f"  Therapist:     {therapist.username:<12} password {password}"
            f"   ({therapist.display_name}: her four patients are the tour)",
            f"  Clinic admin:  {admin.username:<12} password {password}"
            f"   ({admin.display_name}: the clinic dashboard)",
        ]
        if url:
            lines.append(
                f"  Patient:       {patient.full_name}'s portal link (open it on a phone):"
            )
            lines.append(f"                 {url}")
        self.stdout.write("\n".join(lines))
