from django.core.management.base import BaseCommand

from servicedesk.celery import sync_beat_schedule


class Command(BaseCommand):
    help = "Write the beat schedule of servicedesk/celery.py into the database (missing entries; all with --reset)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="Also put back this file's times on entries changed in the admin, and enable them.")

    def handle(self, *args, reset=False, **options):
        written = sync_beat_schedule(reset=reset)
        self.stdout.write(f"{len(written)} beat entries written" + (f": {', '.join(written)}" if written else "."))
