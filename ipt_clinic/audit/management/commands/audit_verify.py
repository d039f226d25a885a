"""``manage.py audit_verify``: walk the audit trail's hash chain; exit 1 at the first broken
link, naming the event."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ipt_clinic.audit.chain import audit_chain_check


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain from the first event to the last; exit 1 at the "
        "first event whose hash does not follow from its content and the event before it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")

    def handle(self, *args, database: str, **options):
        report = audit_chain_check(using=database)
        broken = report.broken
        if broken is not None:
            after = (
                f"the event before it, #{broken.previous_id}"
                if broken.previous_id is not None
                else "the start of the trail"
            )
            raise CommandError(
                f"Audit trail broken at event #{broken.event_id}: its hash does not follow "
                f"from its content and {after} (stored {broken.stored or 'nothing'}, expected "
                f"{broken.expected}). The event was altered, or events before it were removed "
                f"or inserted. {report.events} events before it are intact."
            )
        if not report.events:
            self.stdout.write("Audit trail intact: no events yet.")
            return
        self.stdout.write(
            f"Audit trail intact: {report.events} events; the last, #{report.head_id}, has "
            f"hash {report.head}."
        )
