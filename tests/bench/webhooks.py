"""`make bench` probe: what outbound webhooks cost a write, and how fast the outbox empties.

    python -m tests.bench.webhooks [EVENTS]

Run as its own process, on the bench's database. Prints one JSON line:
- the log-a-callback write's p95 in ms with 0 and with 5 subscriptions to its event (callback_log, each run
  rolled back to a savepoint, so the data set is left as it was), and the difference;
- EVENTS outbox rows (their messages lost) emptied by 2 sweeps and 2 workers at once, processes of their own, into a
  receiver on loopback that always answers 204: events per second, and how many arrived twice or never.
"""

import http.server
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from callbacks.services import callback_log  # noqa: E402
from customers.models import Job  # noqa: E402
from servicedesk.integrations.models import Integration  # noqa: E402
from servicedesk.webhooks.delivery import deliveries_claim_due, delivery_attempt  # noqa: E402
from servicedesk.webhooks.models import Delivery, Event, Subscription  # noqa: E402
from servicedesk.webhooks.outbox import document  # noqa: E402
from servicedesk.webhooks.services import new_secret  # noqa: E402

WRITES, WARM_UP, SUBSCRIPTIONS = 60, 10, 5


class _RollBack(Exception):
    pass


class Receiver:
    def __init__(self):
        self.ids = Counter()
        lock = threading.Lock()
        ids = self.ids

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    ids[self.headers["webhook-id"]] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _subscriptions(url, count, by):
    integration = Integration.objects.create(name=f"bench webhooks {time.time_ns()}", created_by=by)
    return [Subscription.objects.create(integration=integration, label=f"bench {n}", url=url, secret=new_secret(),
                                        event_types=["callback.logged"], created_by=by) for n in range(count)]


def _p95(samples):
    samples = sorted(samples)
    return samples[max(0, int(round(0.95 * len(samples))) - 1)]


def write_p95(url, subscriptions, by):
    """callback_log's p95 in ms with this many subscriptions to callback.logged (everything rolled back)."""
    jobs = list(Job.objects.filter(status=Job.Status.COMPLETED, kind=Job.Kind.SERVICE_CALL)
                .select_related("customer", "site").order_by("-pk")[:WRITES + WARM_UP])
    samples = []
    try:
        with transaction.atomic():
            _subscriptions(url, subscriptions, by)
            for n, job in enumerate(jobs):
                savepoint = transaction.savepoint()
                started = time.perf_counter()
                callback_log(job=job, problem=f"Bench callback {n}", channel="phone", urgency="normal", logged_by=by)
                if n >= WARM_UP:
                    samples.append((time.perf_counter() - started) * 1000)
                transaction.savepoint_rollback(savepoint)
            raise _RollBack
    except _RollBack:
        pass
    return round(_p95(samples), 2), round(statistics.median(samples), 2)


def _sweep(queue, workers):
    while Delivery.objects.pending().exists():
        ids, claim = deliveries_claim_due(limit=50)
        for pk in ids:
            queue.put((pk, claim))
        if not ids:
            time.sleep(0.01)
    for _ in range(workers):
        queue.put(None)
    connections.close_all()


def _work(queue):
    while (item := queue.get()) is not None:
        delivery_attempt(delivery_id=item[0], claim=item[1])
    connections.close_all()


def throughput(url, count, by):
    subscription = _subscriptions(url, 1, by)[0]
    now = timezone.now()
    events = [Event(type="callback.logged", occurred_at=now) for _ in range(count)]
    for event in events:
        event.body = document(event_type=event.type, event_uuid=event.uuid, occurred_at=now, data={"bench": True})
    Event.objects.bulk_create(events, batch_size=1000)
    Delivery.objects.bulk_create([Delivery(event=event, subscription=subscription, next_attempt_at=now,
                                           retry_from=now) for event in events], batch_size=1000)
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_sweep, args=(queue, 1)) for _ in range(2)]
    processes += [context.Process(target=_work, args=(queue,)) for _ in range(2)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    seconds = time.perf_counter() - started
    delivered = Delivery.objects.filter(subscription=subscription).exclude(delivered_at=None).count()
    Event.objects.filter(pk__in=[event.pk for event in events]).delete()
    subscription.integration.delete()
    return {"events": count, "delivered": delivered, "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1)}


def main(count):
    receiver = Receiver()
    by, _ = User.objects.get_or_create(username="bench-webhooks", defaults={"first_name": "Bench"})
    without, without_median = write_p95(receiver.url, 0, by)
    with_five, with_five_median = write_p95(receiver.url, SUBSCRIPTIONS, by)
    sent = throughput(receiver.url, count, by)
    ids = receiver.ids
    print(json.dumps({
        "write_p95_ms_0": without, "write_p95_ms_5": with_five, "write_median_ms_0": without_median,
        "write_median_ms_5": with_five_median, "write_added_ms": round(with_five - without, 2), **sent,
        "twice": sum(1 for n in ids.values() if n > 1), "never": count - len(ids),
    }))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
