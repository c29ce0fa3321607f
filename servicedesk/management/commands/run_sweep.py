from django.core.management.base import BaseCommand, CommandError

from servicedesk.celery import SWEEPS, app


class Command(BaseCommand):
    help = "Run one beat sweep now, in this process (safe alongside the scheduled run: every sweep is idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", choices=sorted(SWEEPS), help="The sweep; all of them when omitted.")

    def handle(self, *args, name=None, **options):
        app.loader.import_default_modules()
        for sweep in [name] if name else sorted(SWEEPS):
            task = app.tasks.get(SWEEPS[sweep])
            if task is None:
                raise CommandError(f"Task {SWEEPS[sweep]} is not registered.")
            result = task()
            self.stdout.write(f"{sweep}: {result}")
