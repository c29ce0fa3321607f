"""The demo company's dispatch system: an integration whose webhooks `manage.py send_demo_webhooks` signs and sends,
so `make run` shows the intake working with no outside system."""

import json
import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import Site
from servicedesk import roles
from servicedesk.integrations.models import Integration

from .models import WebhookSecret
from .signatures import new_secret

DEMO_INTEGRATION = "Demo dispatch system"


def create_demo_dispatch_system(demo):
    """A seed step (servicedesk/demo): the integration and its webhook secret, added by the demo manager."""
    manager = demo.staff[roles.MANAGER][0]
    integration = Integration.objects.create(name=DEMO_INTEGRATION, kind=Integration.Kind.GENERIC,
                                             created_by=manager)
    WebhookSecret.objects.create(integration=integration, secret=new_secret(integration.kind), set_at=demo.now,
                                 set_by=manager)
    demo.counts["integrations"] = 1
    demo.log(f"integrations: {DEMO_INTEGRATION!r}, its webhooks at /hooks/{integration.pk}/")


def demo_day(*, now=None, jobs=8, seed=None):
    """A day of the dispatch system's events, as (event id, payload) in the order they happen: jobs booked this
    morning at the demo's sites, started and completed through the day (one cancelled, one moved to tomorrow), a
    new customer booked for tomorrow. Ids are the day's, so sending the same day twice adds nothing."""
    now = timezone.localtime(now or timezone.now()).replace(second=0, microsecond=0)
    day = now.strftime("%Y%m%d")
    rng = random.Random(seed or day)
    technicians = list(get_user_model().objects.filter(groups__name=roles.TECHNICIAN, is_active=True)
                       .order_by("pk").values_list("username", flat=True)[:jobs])
    sites = list(Site.objects.filter(external_id__startswith="DEMO-S-", customer__do_not_service=False)
                 .order_by("pk").values_list("external_id", flat=True)[:400])
    if not technicians or not sites:
        return []
    events = []

    def event(kind, at, data):
        events.append((f"demo-{day}-{len(events) + 1:03d}", {"type": kind, "timestamp": at.isoformat(),
                                                               "data": data}))

    start_of_day = now - timedelta(hours=10)
    for n, site in enumerate(rng.sample(sites, min(jobs, len(sites)))):
        start = start_of_day + timedelta(hours=n + 1)
        job = {"external_id": f"DEMO-WH-{day}-{n + 1:02d}", "site": site,
               "kind": rng.choice(["service call", "tune up", "service call", "install"]), "status": "scheduled",
               "scheduled_start": start.isoformat(), "scheduled_end": (start + timedelta(hours=1, minutes=30))
               .isoformat(), "lead_technician": technicians[n % len(technicians)],
               "summary": rng.choice(["No heat upstairs.", "Water heater leaking at the base.",
                                      "Breaker trips when the AC starts.", "Annual maintenance visit."])}
        event("job.scheduled", start_of_day - timedelta(minutes=30 - n), job)
        if n == jobs - 1:  # the customer asked for tomorrow instead
            later = start + timedelta(days=1)
            event("job.rescheduled", start - timedelta(hours=2), {**job, "scheduled_start": later.isoformat(),
                                                                   "scheduled_end": (later + timedelta(hours=1))
                                                                   .isoformat()})
            continue
        if n == jobs - 2:
            event("job.cancelled", start - timedelta(hours=1), {**job, "status": "cancelled"})
            continue
        if start > now - timedelta(minutes=20):
            continue  # still to come today
        event("job.started", start + timedelta(minutes=5), {**job, "status": "in progress"})
        done = start + timedelta(minutes=rng.randrange(40, 85))
        if done < now:
            event("job.completed", done, {**job, "status": "completed", "completed_at": done.isoformat(),
                                          "summary": job["summary"] + " Fixed and tested."})
    customer = f"DEMO-WH-C-{day}"
    event("customer.created", now - timedelta(minutes=15), {
        "external_id": customer, "name": "Riley Okafor", "phone": "(555) 010-7781", "email": "riley@example.com",
        "preferred_contact": "text"})
    event("site.created", now - timedelta(minutes=14), {
        "external_id": f"DEMO-WH-S-{day}", "customer": customer, "street": "418 Larch Ave", "city": "Springfield",
        "state": "IL", "postal_code": "62704", "site_type": "residential"})
    tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0)
    event("job.scheduled", now - timedelta(minutes=13), {
        "external_id": f"DEMO-WH-{day}-new", "site": f"DEMO-WH-S-{day}", "kind": "service call",
        "status": "scheduled", "scheduled_start": tomorrow.isoformat(),
        "scheduled_end": (tomorrow + timedelta(hours=2)).isoformat(), "lead_technician": technicians[0],
        "summary": "New customer: furnace short-cycling."})
    return events


def demo_body(payload):
    return json.dumps(payload).encode()
