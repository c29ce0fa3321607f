"""Issue 19, point 5: the demo company has a "Demo dispatch system" integration, and a day of its events, signed as
`manage.py send_demo_webhooks` signs them, books, starts and completes jobs at the demo's sites; sending the same
day again adds nothing."""

import pytest
from django.utils import timezone

from customers.models import Job
from servicedesk import demo
from servicedesk.integrations.intake.demo import DEMO_INTEGRATION, demo_body, demo_day
from servicedesk.integrations.intake.models import InboxEvent, WebhookSecret
from servicedesk.integrations.intake.signatures import sign

pytestmark = pytest.mark.django_db

SMALL = demo.Plan(jobs=60, customers=15, technicians=3, csrs=1, managers=1, sales=1, days_back=30)


def test_a_demo_day_of_signed_events_books_starts_and_completes_jobs_and_twice_adds_nothing(
    client, django_capture_on_commit_callbacks,
):
    demo.seed(plan=SMALL, log=lambda text: None)
    secret = WebhookSecret.objects.select_related("integration").get(integration__name=DEMO_INTEGRATION)
    now = timezone.now()
    events = demo_day(now=now)

    def send_the_day():
        answers = []
        for event_id, payload in events:
            body = demo_body(payload)
            headers = sign(kind=secret.integration.kind, secret=secret.secret, body=body, event_id=event_id)
            with django_capture_on_commit_callbacks(execute=True):
                answers.append(client.post(f"/hooks/{secret.integration.pk}/", body,
                                           content_type="application/json", headers=headers).status_code)
        return answers

    assert set(send_the_day()) == {202}
    assert list(InboxEvent.objects.exclude(state=InboxEvent.State.PROCESSED).values_list("kind", "result")) == []
    day = Job.objects.filter(external_id__startswith="DEMO-WH-")
    assert day.filter(status=Job.Status.COMPLETED, completed_elsewhere=True).count() >= 5
    assert day.filter(status=Job.Status.CANCELLED).count() == 1
    assert day.filter(status=Job.Status.SCHEDULED, scheduled_start__gt=now).count() == 2  # moved, and the new one

    assert set(send_the_day()) == {200}
    assert InboxEvent.objects.count() == len(events)
