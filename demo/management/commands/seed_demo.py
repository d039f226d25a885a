"""``manage.py seed_demo [--scale N]``: the fictional demo clinics (see ``demo.seed``)."""

import time

from django.core.management.base import BaseCommand, CommandError

from demo import clinics, seed
from demo.guard import DemoRefused, refuse_in_production


class Command(BaseCommand):
    help = (
        "Create the demo clinics, staff and fictional patients (idempotent). "
        "--scale N adds about 200*N generated patients for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="Add about 200*N generated patients (N=100: about 20,000) with bulk inserts.",
        )

    def handle(self, *args, scale: int, **options):
        try:
            refuse_in_production()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if scale < 0:
            raise CommandError("--scale must be 0 or more.")
        started = time.monotonic()
        report = seed.seed_demo(scale=scale, stdout=self.stdout if scale else None)
        elapsed = time.monotonic() - started
        verb = "created" if report.created_patients else "already there; nothing added"
        self.stdout.write(
            f"Demo data {verb}: {report.created_patients} new patients in {elapsed:.1f} s."
        )
        self._print_table(clinics.SUMMARY_HEADER, clinics.summary_rows())
        self.stdout.write("")
        self.stdout.write(
            f"Demo logins (password for all: {clinics.DEMO_PASSWORD}; MFA is off in the demo):"
        )
        self._print_table(("username", "name", "role", "clinic"), clinics.demo_logins())
        url = clinics.demo_portal_url(report.portal_patient)
        self.stdout.write("")
        if url:
            self.stdout.write(f"Portal link of {report.portal_patient.full_name}: {url}")
        else:
            self.stdout.write("No demo portal link to print (staff replaced it, or no portal).")

    def _print_table(self, header, rows) -> None:
        widths = [
            max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)
        ]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        self.stdout.write(line.format(*header))
        self.stdout.write(line.format(*("-" * w for w in widths)))
        for row in rows:
            self.stdout.write(line.format(*row))
