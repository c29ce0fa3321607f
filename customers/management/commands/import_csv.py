from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from customers.import_notes import import_notes
from customers.importing import KINDS, ImportRejected, apply_import, plan_import
from customers.reports.folder import folder_import
from customers.reports.models import ReportMapping


class Command(BaseCommand):
    help = (
        "Import a CSV export of customers, sites, equipment or jobs from the dispatch system, upserting by its ids. "
        "The whole file is rejected, with row-numbered errors, if any row is wrong. With --mapping NAME --watch DIR: "
        "import each flat jobs report waiting in DIR by the saved mapping, moving it to done/ or failed/."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", nargs="?", choices=list(KINDS), help="What the file holds; import them in this "
                                                                           "order.")
        parser.add_argument("file", nargs="?", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report what would change; write nothing."
        )
        parser.add_argument("--mapping", help="A jobs report mapping saved on the import page (with --watch).")
        parser.add_argument("--watch", type=Path, metavar="DIR",
                            help="A folder of jobs reports: each file is imported once and moved to DIR/done or "
                                 "DIR/failed with a report beside it; the managers are told of failures.")

    def handle(self, *, kind, file, dry_run, mapping, watch, **options):
        if watch or mapping:
            return self._watch(mapping, watch)
        if not kind or not file:
            raise CommandError("Give the kind and the file, or --mapping NAME --watch DIR.")
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

    def _watch(self, name, folder):
        if not (name and folder):
            raise CommandError("--watch DIR needs --mapping NAME (a mapping saved on the jobs report import page).")
        mapping = ReportMapping.objects.filter(name=name).first()
        if mapping is None:
            known = ", ".join(ReportMapping.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No mapping is called {name!r} (saved mappings: {known}).")
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        reports = folder_import(folder=folder, mapping=mapping)
        failed = [report for report in reports if report.status != report.Status.IMPORTED]
        for report in reports:
            self.stdout.write(f"{report.file_name}: {report.get_status_display()}")
        self.stdout.write(f"{len(reports) - len(failed)} imported, {len(failed)} failed.")
        if failed:
            raise CommandError(f"{len(failed)} file(s) were not imported; see failed/ and the managers' "
                               "notifications.")

    def _reject(self, file, errors):
        for error in errors:
            self.stderr.write(str(error))
        raise CommandError(f"{file.name} was not imported: {len(errors)} error{'s' if len(errors) != 1 else ''}; "
                           "nothing was written.")
