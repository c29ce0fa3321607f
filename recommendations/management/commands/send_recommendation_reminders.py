from django.core.management.base import BaseCommand

from recommendations.reminders import send_recommendation_reminders


class Command(BaseCommand):
    help = "E-mail customers who opted in about their open recommendations that are due a reminder (safe to rerun)."

    def handle(self, *args, **options):
        sent = send_recommendation_reminders()
        self.stdout.write(f"{sent} recommendation reminder(s) written and e-mailed.")
