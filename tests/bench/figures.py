"""What `make bench` measures: the pages, the sweeps, and the data they need.

Each app adds its pages here as it lands; `prepare()` creates (once) the users and the
customers the figures ask for, on top of the `seed_demo --scale` data set.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Job, Site
from customers.phones import phone_digits
from servicedesk import roles

HISTORY_JOBS = 200


@dataclass
class Page:
    name: str
    path: str
    user: User
    dashboard: bool = False


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
    return {"csr": csr, "manager": manager, "technician": technician, "history_customer": customer}


def pages(fixtures):
    csr, technician = fixtures["csr"], fixtures["technician"]
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
        Page("technician: my day", reverse("home"), technician),
    ]


def sweeps(fixtures):
    """(name, measure() -> value, target) for each beat sweep; added with the follow-up issue."""
    return []


def throughput_paths(fixtures):
    """The list page under load, the bare page that is its ceiling, and who asks for the list."""
    return reverse("customers:list"), reverse("login"), fixtures["csr"]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def session_cookie(user):
    client = client_for(user)
    return f"sessionid={client.cookies['sessionid'].value}"
