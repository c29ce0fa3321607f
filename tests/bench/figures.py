"""What `make bench` measures: the pages, the sweeps, and the data they need.

Each app adds its pages here as it lands; `prepare()` creates (once) the users and the
customers the figures ask for, on top of the `seed_demo --scale` data set.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback
from customers.models import Customer, Job, ReportImport, Site
from customers.phones import phone_digits
from recommendations.models import Recommendation, Risk
from servicedesk import roles

from .texts import prepare_texts, text_pages

HISTORY_JOBS = 200
FLAT_REPORT_ROWS = 100_000
COMPLETED_AT_ONCE = 100_000
BRIEFING_RECOMMENDATIONS = 50


@dataclass
class Page:
    name: str
    path: str
    user: User
    dashboard: bool = False
    method: str = "GET"
    # A page's own time target in ms, when it is neither a staff page (100) nor a dashboard (300); None: reported only.
    target_ms: float | None = 0
    # Each request adds a query string of its own ("&view=N"), so nothing a page keeps between commits
    # (servicedesk/unchanged.py) is reused: the page as its first view after a write renders it.
    every_view_rendered: bool = False

    def path_for(self, view):
        if not self.every_view_rendered:
            return self.path
        return f"{self.path}{'&' if '?' in self.path else '?'}view={view}"


def _user(username, role):
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": "Bench", "last_name": role})
    if created:
        user.set_password("bench")
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


def prepare():
    csr = _user("bench-csr", roles.CSR)
    manager = _user("bench-manager", roles.MANAGER)
    technician = _user("bench-technician", roles.TECHNICIAN)
    customer, created = Customer.objects.get_or_create(
        external_id="bench-history",
        defaults={
            "name": "Bench Customer With History",
            "phone": "(555) 867-5309",
            "phone_digits": phone_digits("5558675309"),
        },
    )
    if created:
        site = Site.objects.create(customer=customer, street="1 Benchmark Way", city="Springfield", state="IL")
        start = timezone.now() - timedelta(days=3 * 365)
        Job.objects.bulk_create(
            Job(
                customer=customer,
                site=site,
                kind=Job.Kind.MAINTENANCE,
                status=Job.Status.COMPLETED,
                scheduled_start=start + timedelta(days=5 * n),
                scheduled_end=start + timedelta(days=5 * n, hours=2),
                completed_at=start + timedelta(days=5 * n, hours=2),
                lead_technician=technician,
                summary=f"Seasonal maintenance visit {n}",
                invoice_number=f"BENCH-{n}",
            )
            for n in range(HISTORY_JOBS)
        )
    site = customer.sites.get()
    if not Recommendation.objects.filter(site=site).exists():
        # The briefing's worst case in the issue: a site with 50 open recommendations and 200 past jobs.
        first_job = customer.jobs.order_by("scheduled_start").first()
        Recommendation.objects.bulk_create(
            Recommendation(
                customer=customer,
                site=site,
                raised_on_job=first_job,
                raised_by=technician,
                owner=technician,
                what=f"Recommendation {n}",
                risk=Risk.SHOULD_BE_DONE,
                created_at=first_job.completed_at,
                next_follow_up_on=timezone.localdate() + timedelta(days=n),
            )
            for n in range(BRIEFING_RECOMMENDATIONS)
        )
    today = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    if not Job.objects.filter(lead_technician=technician, scheduled_start__date=today.date()).exists():
        Job.objects.bulk_create(
            Job(
                customer=customer,
                site=site,
                kind=Job.Kind.SERVICE_CALL,
                scheduled_start=today + timedelta(hours=2 * n),
                scheduled_end=today + timedelta(hours=2 * n + 1),
                lead_technician=technician,
            )
            for n in range(5)
        )
    todays_job = Job.objects.filter(lead_technician=technician, scheduled_start__date=today.date()).first()
    # A jobs report import as its page sees it while the worker writes: what the progress bar polls every second.
    report_import, _ = ReportImport.objects.get_or_create(
        file_name="bench-jobs-report.csv", defaults={"status": ReportImport.Status.IMPORTING, "rows": 100_000,
                                                     "rows_checked": 100_000, "stored_name": "imports/reports/none",
                                                     "by": manager})
    prepare_texts(csr, _user("bench-csr2", roles.CSR))
    return {
        "csr": csr,
        "manager": manager,
        "technician": technician,
        "history_customer": customer,
        "todays_job": todays_job,
        "callback": Callback.objects.order_by("-logged_at").first(),
        "report_import": report_import,
    }


def pages(fixtures):
    csr, technician, manager = fixtures["csr"], fixtures["technician"], fixtures["manager"]
    customers = reverse("customers:list")
    return [
        Page("CSR: today page", reverse("home"), csr),
        Page("CSR: customer search by phone in another format", f"{customers}?q=%2B1+555.867.5309", csr),
        Page("CSR: customer search by name", f"{customers}?q=bench+customer", csr),
        Page("CSR: customer list (first page)", customers, csr),
        Page(
            f"CSR: customer history ({HISTORY_JOBS} jobs)",
            reverse("customers:detail", args=[fixtures["history_customer"].pk]),
            csr,
        ),
        Page("CSR: job list (first page)", reverse("customers:job_list"), csr),
        Page("CSR: callback list (default)", reverse("callbacks:list"), csr),
        Page("CSR: callback list (default, rendered on every view)", reverse("callbacks:list"), csr,
             every_view_rendered=True),
        Page(
            "CSR: callback list (filtered: overdue, high urgency)",
            f"{reverse('callbacks:list')}?overdue=true&urgency=high",
            csr,
        ),
        Page("CSR: callback detail", reverse("callbacks:detail", args=[fixtures["callback"].pk]), csr),
        Page("CSR: log-a-callback page", reverse("callbacks:new"), csr),
        Page("CSR: recommendations list", reverse("recommendations:list"), csr),
        Page("technician: my day", reverse("home"), technician),
        Page(
            f"technician: pre-visit briefing ({BRIEFING_RECOMMENDATIONS} open recommendations)",
            reverse("recommendations:briefing", args=[fixtures["todays_job"].pk]),
            technician,
        ),
        Page("technician: my follow-ups", reverse("recommendations:mine"), technician),
        Page("CSR: follow-up call queue", reverse("callbacks:calls"), csr),
        Page("CSR: next follow-up call (claim)", reverse("callbacks:call_next"), csr, method="POST"),
        Page("manager: callback dashboard (12 months)", reverse("dashboards:callbacks"), manager, dashboard=True),
        Page("manager: recommendations dashboard", reverse("dashboards:recommendations"), manager, dashboard=True),
        *(
            [Page("manager: follow-up dashboard", reverse("dashboards:follow_ups"), manager, dashboard=True)]
            if _has_url("dashboards:follow_ups") else []
        ),
        Page("manager: technician scorecard", reverse("dashboards:scorecard", args=[technician.pk]), manager,
             dashboard=True),
        # Issue 19: the API's list page, read by an integration (a manager's session here: the same view).
        Page("integration: API jobs list (100 a page)", "/api/v1/jobs/", manager, target_ms=50),
        Page("manager: jobs report import progress (htmx poll)",
             reverse("customers:report_progress", args=[fixtures["report_import"].pk]), manager, target_ms=50),
        *text_pages({"csr": csr}, Page),
        # Its target is to stream in constant memory (a server-side cursor), not a time: the whole file is timed.
        Page("manager: CSV export of 12 months of callbacks", reverse("callbacks:export"), manager, dashboard=True,
             target_ms=None),
    ]


def _has_url(name):
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def sweeps(fixtures):
    """(name, measure() -> value, target) for each beat sweep, on the whole data set."""
    from servicedesk.celery import SWEEPS

    figures = []
    for name, task in SWEEPS.items():
        figures.append((f"sweep {name}, nothing due: seconds", _sweep_seconds(task), 1.0))
    figures.extend(_completed_at_once())
    figures.extend(_flat_report())
    figures.extend(_webhooks())
    return figures


def _flat_report():
    """A 100,000-row flat jobs report checked and imported in a fresh process (the worker's peak memory), rolled
    back (tests/bench/flat_report.py)."""
    probe = subprocess.run([sys.executable, "-m", "tests.bench.flat_report", str(FLAT_REPORT_ROWS)],
                           capture_output=True, text=True, check=True, env=os.environ.copy())
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    rows = f"{FLAT_REPORT_ROWS:,}-row jobs report"
    return [
        (f"{rows}: check seconds", lambda: result["check_seconds"], None),
        (f"{rows}: check and import seconds", lambda: result["check_seconds"] + result["import_seconds"], 60),
        (f"{rows}: worker peak memory MB", lambda: result["peak_mb"], 300),
    ]


def _sweep_seconds(task_name):
    def measure():
        from django.utils.module_loading import import_string

        task = import_string(task_name)
        task()  # the first run catches up whatever is due now; the second finds nothing due
        started = time.perf_counter()
        task()
        return round(time.perf_counter() - started, 3)

    return measure


def _completed_at_once():
    """Schedule follow-up calls right after 100,000 jobs were completed at once: seconds, queries, peak memory.

    Run in a fresh process (its peak memory is the worker's) inside a transaction that is rolled back, so
    the data set stays as it was for the next run.
    """
    probe = subprocess.run(
        [sys.executable, "-m", "tests.bench.completed_at_once", str(COMPLETED_AT_ONCE)],
        capture_output=True, text=True, check=True, env=os.environ.copy(),
    )
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    return [
        (f"schedule follow-up calls after {COMPLETED_AT_ONCE:,} completions: seconds", lambda: result["seconds"], 10),
        (f"schedule follow-up calls after {COMPLETED_AT_ONCE:,} completions: queries", lambda: result["queries"], 15),
        (f"schedule follow-up calls after {COMPLETED_AT_ONCE:,} completions: calls created",
         lambda: result["created"], None),
        ("worker peak memory for that sweep: MB", lambda: result["peak_mb"], 300),
    ]


def _webhooks():
    """Outbound webhooks (tests/bench/webhooks.py, its own process): what the outbox adds to logging a callback with
    5 subscriptions, and 1,000 events sent by 2 sweeps and 2 workers at once to a receiver on loopback."""
    probe = subprocess.run([sys.executable, "-m", "tests.bench.webhooks", "1000"],
                           capture_output=True, text=True, check=True, env=os.environ.copy())
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    return [
        ("log a callback, 0 webhook subscriptions: p95 ms", lambda: result["write_p95_ms_0"], None),
        ("log a callback, 5 webhook subscriptions: p95 ms", lambda: result["write_p95_ms_5"], None),
        ("what 5 webhook subscriptions add to logging a callback: p95 ms", lambda: result["write_added_ms"], 5),
        ("webhooks: 1,000 events by 2 sweeps and 2 workers: events/s", lambda: result["per_second"], None),
        # 200 events a second or more.
        ("webhooks: ms per event delivered", lambda: round(1000 / result["per_second"], 2), 5),
        ("webhooks: events delivered twice or never", lambda: result["twice"] + result["never"], 0),
    ]


def throughput_paths(fixtures):
    """The list page under load, the bare page that is its ceiling, and who asks for the list.

    The ceiling is issue 8's "bare Django page rendered from the same base template with no queries": the
    password-changed page, seen logged in like the list (the session, the user, their roles and the navbar's unread
    count, which every page reads), whose view reads nothing. The login page rendered a crispy form besides.
    """
    return reverse("callbacks:list"), reverse("password_change_done"), fixtures["csr"]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def session_cookie(user):
    client = client_for(user)
    return f"sessionid={client.cookies['sessionid'].value}"
