"""`make bench`: issue 19's figures for the webhook intake and the API, at the data set's size.

- webhook intake p99 with 16 concurrent senders (each delivery's signature check and its insert, answered 202);
- jobs per second through `POST /api/v1/jobs/bulk` (1,000 new jobs a request);
- the API's jobs list: p95 of a page, and its query count, the same for 10 records a page and 1,000;
- from a stored "job completed" event to its follow-up call being due: processing the event plus one run of the
  follow-up call sweep, against the sweep's interval (ten minutes).

What the intake and the bulk requests write is removed afterwards, so every run measures the same data set.
"""

import http.client
import json
import multiprocessing
import time
import uuid
from datetime import timedelta

from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

SENDERS = 16
DELIVERIES_PER_SENDER = 40
BULK_JOBS = 1000
BULK_REQUESTS = 10
# Untimed requests first, as for the pages (tests/bench/__main__.py, WARM_UP): a gunicorn worker's first request of a
# kind costs it its imports and its connection's first plans (a bulk request of 1,000 jobs took ~400 ms cold against
# ~180 warm), and five requests over four workers measured mostly first requests.
WARM_UP = 5 * 4
FOLLOW_UP_SWEEP_SECONDS = 600  # "schedule follow-up calls" runs every ten minutes (servicedesk/celery.py)


def prepare(manager):
    """The bench integration (generic, with its secret and a read-write token) and a site for the bulk jobs."""
    from customers.models import Customer, Site
    from servicedesk.integrations.intake.models import WebhookSecret
    from servicedesk.integrations.intake.services import webhook_secret_set
    from servicedesk.integrations.models import Integration
    from servicedesk.integrations.services import api_token_issue

    integration, _ = Integration.objects.get_or_create(name="Bench dispatch system",
                                                       defaults={"created_by": manager})
    if not WebhookSecret.objects.filter(integration=integration).exists():
        webhook_secret_set(integration=integration, by=manager)
    _, token = api_token_issue(integration=integration, label="bench", scope="read_write", by=manager)
    customer, _ = Customer.objects.get_or_create(external_id="bench-bulk", defaults={"name": "Bench Bulk"})
    Site.objects.get_or_create(external_id="bench-bulk-site", defaults={
        "customer": customer, "street": "2 Benchmark Way", "city": "Springfield", "state": "IL"})
    integration.refresh_from_db()
    return integration, token


def _post(port, path, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, (time.perf_counter() - started) * 1000


_start = None  # the senders' barrier, inherited by the forked senders


def _sender(port, integration_pk, kind, secret, run, number, deliveries=DELIVERIES_PER_SENDER):
    """One dispatch system posting its deliveries one after another: the milliseconds of each. They are signed
    before the first is sent, so that no sender's signing competes for the 2 cores with the requests timed."""
    from servicedesk.integrations.intake.signatures import sign

    signed = []
    for n in range(deliveries):
        event_id = f"bench-{run}-{number}-{n}"
        body = json.dumps({"type": "bench.ping", "timestamp": timezone.now().isoformat(),
                           "data": {"external_id": event_id}}).encode()
        signed.append((body, sign(kind=kind, secret=secret, body=body, event_id=event_id)))
    if _start is not None:
        _start.wait(timeout=60)  # every sender has signed: all 16 begin together
    samples = []
    for body, headers in signed:
        status, ms = _post(port, f"/hooks/{integration_pk}/", body, headers)
        if status != 202:
            raise RuntimeError(f"the intake answered {status}")
        samples.append(ms)
    return samples


def intake_p99(port, integration):
    """16 senders, each posting signed deliveries of distinct events as fast as answered: the p99 in ms.

    Each sender is a process of its own, as 16 dispatch systems are: 16 threads of this one process measured
    their own wait for the interpreter lock (a response read, then the clock read only once the thread got the
    lock back from the 15 others signing their next delivery), not the server."""
    from servicedesk.integrations.intake.models import InboxEvent

    run = uuid.uuid4().hex[:8]
    connections.close_all()  # the senders are forked: none may share this process's database connection
    _sender(port, integration.pk, integration.kind, integration.webhook_secret.secret, f"{run}-warm-up", -1,
            deliveries=WARM_UP)
    arguments = [(port, integration.pk, integration.kind, integration.webhook_secret.secret, run, number)
                 for number in range(SENDERS)]
    global _start
    context = multiprocessing.get_context("fork")
    _start = context.Barrier(SENDERS)
    with context.Pool(SENDERS) as pool:
        samples = sorted(ms for batch in pool.starmap(_sender, arguments) for ms in batch)
    _start = None
    InboxEvent.objects.filter(integration=integration, event_id__startswith=f"bench-{run}-").delete()
    return round(samples[max(0, int(round(0.99 * len(samples))) - 1)], 1)


def bulk_jobs_per_second(port, token):
    """New jobs through POST /api/v1/jobs/bulk, 1,000 a request: jobs per second over ten requests, once every
    gunicorn worker has served some."""
    from customers.models import Job, JobEvent

    run = uuid.uuid4().hex[:8]
    start = timezone.now() + timedelta(days=30)
    elapsed = 0.0
    for request in range(WARM_UP + BULK_REQUESTS):
        records = [{"external_id": f"BENCH-BULK-{run}-{request}-{n}", "site": "bench-bulk-site",
                    "kind": "service call", "status": "scheduled",
                    "scheduled_start": (start + timedelta(minutes=n)).isoformat()} for n in range(BULK_JOBS)]
        status, ms = _post(port, "/api/v1/jobs/bulk", json.dumps(records).encode(),
                           {"Authorization": f"Bearer {token}"})
        if status != 200:
            raise RuntimeError(f"POST /api/v1/jobs/bulk answered {status}")
        if request >= WARM_UP:
            elapsed += ms / 1000
    written = Job.objects.filter(external_id__startswith=f"BENCH-BULK-{run}-")
    with transaction.atomic():
        JobEvent.objects.filter(job__in=written).delete()
        Job.helpers.through.objects.filter(job__in=written).delete()
        written.delete()
    return round(BULK_JOBS * BULK_REQUESTS / elapsed)


def list_query_counts(token):
    """The jobs list's query count for a page of 10 records and one of 1,000 (equal: constant)."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = []
    for size in (10, 1000):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/jobs/?page_size={size}")
        if response.status_code != 200:
            raise RuntimeError(f"the jobs list answered {response.status_code}")
        counts.append(len(captured.captured_queries))
    return counts


def completed_event_to_follow_up_due(integration):
    """Seconds from a stored "job completed" event to its follow-up call being due: the event processed, then one
    run of the follow-up call sweep (inside a transaction that is rolled back)."""
    from callbacks.follow_ups.models import FollowUpCall
    from callbacks.follow_ups.services import follow_up_rules, schedule_follow_up_calls
    from customers.models import Job
    from servicedesk.integrations.intake.models import InboxEvent
    from servicedesk.integrations.intake.services import inbox_event_process, inbox_store
    from servicedesk.integrations.intake.signatures import sign

    class RollBack(Exception):
        pass

    job = (Job.objects.filter(status=Job.Status.SCHEDULED, kind=Job.Kind.SERVICE_CALL,
                              customer__contact_opt_out=False, customer__do_not_service=False)
           .exclude(external_id=None).select_related("site").order_by("scheduled_start").first())
    days = follow_up_rules()[Job.Kind.SERVICE_CALL]
    result = None
    try:
        with transaction.atomic():
            # Reported as completed just as its follow-up call falls due (the rule's days ago, less a minute), so
            # the one sweep run after the event has the call to make.
            done = timezone.now() - timedelta(days=days, minutes=1)
            body = json.dumps({"type": "job.completed", "timestamp": done.isoformat(), "data": {
                "external_id": job.external_id, "site": job.site.external_id,
                "scheduled_start": job.scheduled_start.isoformat(), "status": "completed",
                "completed_at": done.isoformat()}}).encode()
            headers = sign(kind=integration.kind, secret=integration.webhook_secret.secret, body=body,
                           event_id=f"bench-{uuid.uuid4().hex}")
            event, _ = inbox_store(integration=integration, secret=integration.webhook_secret.secret, body=body,
                                   headers={name.lower(): value for name, value in headers.items()})
            started = time.perf_counter()
            processed = inbox_event_process(event_pk=event.pk)
            schedule_follow_up_calls()
            result = round(time.perf_counter() - started, 2)
            if processed.state != InboxEvent.State.PROCESSED or not FollowUpCall.objects.filter(
                    job=job, due_at__lte=timezone.now()).exists():
                raise RuntimeError(f"no follow-up call due after the event: {processed.result}")
            raise RollBack
    except RollBack:
        pass
    return result


def figures(port, manager):
    """{name: {"value", "target", "met", ...}} for make bench's results."""
    integration, token = prepare(manager)
    p99 = intake_p99(port, integration)
    rate = bulk_jobs_per_second(port, token)
    counts = list_query_counts(token)
    seconds = completed_event_to_follow_up_due(integration)
    return {
        f"webhook intake p99 with {SENDERS} concurrent senders: ms": {"value": p99, "target": 50, "met": p99 <= 50},
        "POST /api/v1/jobs/bulk: jobs/s": {"value": rate, "target": 5000, "met": rate >= 5000,
                                            "higher_is_better": True},
        "API jobs list: queries, 10 vs 1,000 a page": {"value": f"{counts[0]} vs {counts[1]}", "target": None,
                                                       "met": counts[0] == counts[1]},
        "stored job-completed event to its follow-up call due: s": {
            "value": seconds, "target": FOLLOW_UP_SWEEP_SECONDS, "met": seconds <= FOLLOW_UP_SWEEP_SECONDS},
    }
