import time
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from servicedesk.integrations.intake.demo import DEMO_INTEGRATION, demo_body, demo_day
from servicedesk.integrations.intake.models import WebhookSecret
from servicedesk.integrations.intake.signatures import sign


class Command(BaseCommand):
    help = (f"Sign and send a day of the {DEMO_INTEGRATION}'s events (jobs booked, started, completed, one cancelled, "
            "one moved to tomorrow, a new customer) to the running server's webhook, as a dispatch system would.")

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="Where the server runs (default http://127.0.0.1:8000, as `make run`).")
        parser.add_argument("--jobs", type=int, default=8, help="Jobs in the day (default 8).")

    def handle(self, *args, url, jobs, **options):
        secret = WebhookSecret.objects.select_related("integration").filter(
            integration__name=DEMO_INTEGRATION).first()
        if secret is None:
            raise CommandError(f"No {DEMO_INTEGRATION!r} integration with a webhook secret: load the demo first "
                               "(manage.py seed_demo).")
        integration = secret.integration
        endpoint = f"{url.rstrip('/')}/hooks/{integration.pk}/"
        events = demo_day(jobs=jobs)
        if not events:
            raise CommandError("The demo company has no technicians or sites to send events about.")
        answers = {}
        for event_id, payload in events:
            body = demo_body(payload)
            headers = {"Content-Type": "application/json",
                       **sign(kind=integration.kind, secret=secret.secret, body=body, event_id=event_id)}
            request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError as error:
                raise CommandError(f"Could not reach {endpoint} ({error}): is the server running?") from None
            answers[status] = answers.get(status, 0) + 1
            self.stdout.write(f"{status} {payload['type']:<18} {payload['data']['external_id']}")
            time.sleep(0.05)  # a dispatch system's pace, not a flood
        summary = ", ".join(f"{count} answered {status}" for status, count in sorted(answers.items()))
        self.stdout.write(self.style.SUCCESS(
            f"Sent {len(events)} events to {endpoint}: {summary} (202 new, 200 already received). The worker "
            f"processes them; failures show on the integration's page."))
