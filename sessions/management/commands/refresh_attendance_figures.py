"""``manage.py refresh_attendance_figures [--clinic SLUG]``: work the attendance figures kept
beside the sessions out again from the sessions themselves (``sessions.attendance``): every
course's attended count and last two attended sessions, and every therapist's attendance
weeks. The app keeps them as attendance is recorded; this is for after sessions were written
around it (a bulk import) or after a clinic's time zone was changed, which moves its weeks.
Safe to run at any time."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ipt_clinic.accounts.models import Clinic
from phases.models import TreatmentCourse
from sessions.attendance import attendance_figures, rebuild_attendance_weeks


class Command(BaseCommand):
    help = "Work the course attendance figures and attendance weeks out again from the sessions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--clinic", help="Only this clinic (its slug); every clinic if left out."
        )

    def handle(self, *args, clinic: str | None = None, **options):
        clinics = Clinic.objects.order_by("pk")
        if clinic:
            clinics = clinics.filter(slug=clinic)
            if not clinics.exists():
                raise CommandError(f"No clinic with the slug {clinic!r}.")
        for each in clinics:
            with transaction.atomic():
                courses = TreatmentCourse.objects.filter(clinic=each).update(**attendance_figures())
                weeks = rebuild_attendance_weeks(each.pk, each.tz)
            self.stdout.write(
                f"{each.name}: {courses} course{'' if courses == 1 else 's'}, "
                f"{weeks} therapist week{'' if weeks == 1 else 's'} with attendance."
            )
