from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.import_notes import import_notes
from customers.importing import KINDS, ImportRejected, apply_import, plan_import


class Command(BaseCommand):
    help = (
        "Import a CSV export of customers, sites, equipment or jobs from the dispatch system, upserting by its ids. "
        "The whole file is rejected, with row-numbered errors, if any row is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS), help="What the file holds; import them in this order.")
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report what would change; write nothing."
        )

    def handle(self, *, kind, file, dry_run, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        if dry_run:
            plan = plan_import(kind=kind, data=data)
            if plan.errors:
                self._reject(file, plan.errors)
            self.stdout.write(f"Dry run, nothing written. {file.name} would import {plan.summary()}.")
            for note in import_notes(plan, timezone.now()):
                self.stdout.write(note)
            return
        try:
            plan = apply_import(kind=kind, data=data)
        except ImportRejected as rejected:
            self._reject(file, rejected.errors)
        self.stdout.write(self.style.SUCCESS(f"Imported {plan.summary()} from {file.name}."))

    def _reject(self, file, errors):
        for error in errors:
            self.stderr.write(str(error))
        raise CommandError(f"{file.name} was not imported: {len(errors)} error{'s' if len(errors) != 1 else ''}; "
                           "nothing was written.")
