"""The whole demo company: a cross-app room, the one place that names every app's demo generator.

`customers.demo` writes staff, customers and jobs; the later apps' steps follow, in this order (the order
they have always run in: the demo is the same in every fresh database only while it stays fixed). Each app's
generators stay in its own `demo` module; nothing registers itself at start-up.
"""

from django.db import connection

from callbacks.demo import create_callbacks
from callbacks.follow_ups.demo import create_follow_up_calls
from customers.demo import PASSWORD, Plan, demo_company_exists
from customers.demo import seed as seed_customers
from recommendations.demo import create_recommendations
from servicedesk.dashboards.rollup import seed_demo_rollup
from servicedesk.integrations.intake.demo import create_demo_dispatch_system
from servicedesk.texting.demo import create_texts

__all__ = ["PASSWORD", "STEPS", "Plan", "demo_company_exists", "seed"]

# The rollup runs once the jobs exist; the later steps add only callback revisits, which it leaves out.
STEPS = (
    seed_demo_rollup,
    create_recommendations,
    create_callbacks,
    create_follow_up_calls,
    create_demo_dispatch_system,
    create_texts,
)


def seed(*, plan=None, now=None, log=print, use_copy=None):
    """Load the demo company, every app's part, in one transaction and return the row counts."""
    counts = seed_customers(plan=plan, now=now, log=log, use_copy=use_copy, steps=STEPS)
    if connection.vendor == "postgresql":
        # Thousands of rows written at once: until autovacuum catches up, the planner's statistics describe the
        # empty tables the demo was loaded into. (In the suite, the demo CSR's first page once took 110 s right after
        # a seed; fresh statistics are the likely cure, not a proven one.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts
