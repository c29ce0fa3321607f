import argparse
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customers.models import Job
from servicedesk import demo

PRODUCTION_FLAG = "--create-guessable-logins-in-production"


def _positive(text):
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of jobs such as 1000000, got {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Load the demo company: staff with one login per role (csr, manager, technician, sales; password "
        "'demo'), ~500 customers with sites and equipment, ~3,000 jobs over the last 12 months. "
        "--scale N loads N jobs over 3 years instead, in bulk, for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true",
            help="Do nothing (successfully) when the demo company already exists; used by `make run` on every start.",
        )
        parser.add_argument(
            "--scale", type=_positive, metavar="JOBS",
            help="Number of jobs (e.g. 1000000), with a customer per 10 jobs, 40 technicians and 12 CSRs.",
        )
        parser.add_argument(
            PRODUCTION_FLAG, action="store_true",
            help="Load it even with DJANGO_ENV=production, creating logins anyone can guess (password 'demo').",
        )

    def handle(self, *args, once, scale, verbosity, **options):
        if settings.DJANGO_ENV == "production" and not options["create_guessable_logins_in_production"]:
            # Fourteen logins with the password "demo" would open a real company's customers to anyone.
            raise CommandError(
                "Refusing to load the demo company with DJANGO_ENV=production: it creates logins whose password is "
                f"'demo'. For a throwaway production-like server only, add {PRODUCTION_FLAG}."
            )
        if demo.demo_company_exists():
            message = f"The demo company is already loaded ({Job.objects.count():,} jobs)"
            if once:
                self.stdout.write(f"{message}; nothing to do.")
                return
            raise CommandError(f"{message}: it is loaded once per database (--once skips this quietly).")
        plan = demo.Plan.at_scale(scale) if scale else demo.Plan()
        log = self.stdout.write if verbosity >= 1 else (lambda text: None)
        log(f"Loading the demo company: {plan.customers:,} customers, {plan.jobs:,} jobs over {plan.days_back} days…")
        started = time.monotonic()
        counts = demo.seed(plan=plan, log=log)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Demo company loaded in {elapsed:.1f} s: {counts['customers']:,} customers, {counts['sites']:,} sites, "
            f"{counts['equipment']:,} equipment, {counts['jobs']:,} jobs ({counts['jobs'] / elapsed:,.0f} jobs/s)."
        ))
        self.stdout.write(f"Demo logins (password '{demo.PASSWORD}'): csr, manager, technician, sales.")
