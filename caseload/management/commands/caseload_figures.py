"""``manage.py caseload_figures [--clinic SLUG] [--rebuild]``: compare the clinic dashboard's
kept figures (``caseload.figures``) with the figures worked out afresh from the records, and
with ``--rebuild`` work every row and total out again. The services keep them as they change
the records; rebuild after records were written around them (a bulk import) or after a
clinic's time zone changed (which moves its weeks). Safe to run at any time."""

from django.core.management.base import BaseCommand, CommandError

from caseload.figures import figures_differences, figures_rebuild
from ipt_clinic.accounts.models import Clinic


class Command(BaseCommand):
    help = "Compare (or, with --rebuild, work out again) the clinic dashboard's kept figures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--clinic", help="Only this clinic (its slug); every clinic if left out."
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="Work every row out again first."
        )

    def handle(self, *args, clinic: str | None = None, rebuild: bool = False, **options):
        clinics = Clinic.objects.order_by("pk")
        if clinic:
            clinics = clinics.filter(slug=clinic)
            if not clinics.exists():
                raise CommandError(f"No clinic with the slug {clinic!r}.")
        differing = 0
        for each in clinics:
            if rebuild:
                rows = figures_rebuild(clinic_id=each.pk, tz=each.tz)
                self.stdout.write(f"{each.name}: {rows} row{'' if rows == 1 else 's'} rebuilt.")
            differences = figures_differences(clinic_id=each.pk, tz=each.tz)
            differing += bool(differences)
            for line in differences:
                self.stdout.write(f"{each.name}: {line}")
            if not differences:
                self.stdout.write(f"{each.name}: the kept figures match the records.")
        if differing:
            raise CommandError(
                f"{differing} clinic{'' if differing == 1 else 's'} with figures that differ: "
                "run with --rebuild."
            )
