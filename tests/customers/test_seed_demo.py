from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Equipment, Job, Site
from customers.phones import phone_digits
from recommendations.models import Discussion, Recommendation
from servicedesk import demo, roles
from servicedesk.models import WorkerHeartbeat
from tests.factories import CustomerFactory, EquipmentFactory, JobFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {"csr": roles.CSR, "manager": roles.MANAGER, "technician": roles.TECHNICIAN, "sales": roles.SALES}


def _quiet(text):
    pass


def _dispatched_jobs():
    """The plan's jobs; the callbacks step adds a no-charge revisit job for each callback that reached one."""
    return Job.objects.filter(revisit_for_callbacks__isnull=True).count()


def _written(model, *leave_out):
    # updated_at is when the row was written (the database's clock, servicedesk/triggers.py), not what was written.
    return [f.attname for f in model._meta.concrete_fields if f.attname not in ("updated_at", *leave_out)]


def _snapshot():
    """Every row the demo writes, primary keys included; users by username (their ids come from the database)."""
    job_columns = _written(Job, "lead_technician_id")
    helpers = Job.helpers.through.objects.order_by("job_id", "user__username")
    return {
        "customers": list(Customer.objects.order_by("pk").values_list(*_written(Customer))),
        "sites": list(Site.objects.order_by("pk").values_list(*_written(Site))),
        "equipment": list(Equipment.objects.order_by("pk").values_list(*_written(Equipment))),
        "jobs": list(Job.objects.order_by("pk").values_list(*job_columns, "lead_technician__username")),
        "helpers": list(helpers.values_list("job_id", "user__username")),
        "staff": list(User.objects.order_by("username").values_list("username", "first_name", "last_name", "is_staff")),
        "recommendations": list(
            Recommendation.objects.order_by("pk").values_list(
                "pk", "site_id", "raised_on_job_id", "accepted_job_id", "what", "risk", "state", "created_at",
                "owner__username", "next_follow_up_on",
            )
        ),
        "discussions": list(
            Discussion.objects.order_by("pk").values_list("recommendation_id", "job_id", "response", "discussed_at")
        ),
    }


def _empty_the_database():
    """Every table the demo writes (the apps' own and the users), keeping the roles and settings of migrations."""
    written = {"customers", "recommendations", "callbacks"}
    tables = [m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.app_label in written]
    tables += [User._meta.db_table, User.groups.through._meta.db_table, User.user_permissions.through._meta.db_table]
    kept = {"recommendations_followupinterval", "callbacks_urgencytarget", "callbacks_followuprule"}
    statements = connection.ops.sql_flush(no_style(), [t for t in tables if t not in kept], allow_cascade=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # run the deferred foreign-key checks first: TRUNCATE refuses to
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run with checks still pending in the transaction
        for sql in statements:
            cursor.execute(sql)


@pytest.fixture
def demo_company():
    call_command("seed_demo", verbosity=0)


def test_demo_company_has_the_promised_staff_customers_and_jobs(demo_company):
    def members(role):
        return User.objects.filter(groups__name=role)

    assert (members(roles.TECHNICIAN).count(), members(roles.CSR).count()) == (8, 3)
    assert (members(roles.MANAGER).count(), members(roles.SALES).count()) == (2, 1)
    assert Customer.objects.count() == 500
    assert _dispatched_jobs() == 3000
    sites_per_customer = Customer.objects.annotate(n=Count("sites"))
    assert sites_per_customer.filter(n=0).count() == 0
    assert sites_per_customer.filter(n__gte=2).exists()
    assert Site.objects.filter(site_type=Site.SiteType.COMMERCIAL).exists()
    assert Equipment.objects.values("kind").distinct().count() >= 10
    assert Customer.objects.exclude(notes="").exists()

    year_ago = timezone.now() - timedelta(days=366)
    assert not Job.objects.filter(scheduled_start__lt=year_ago).exists()
    past = Job.objects.filter(scheduled_end__lt=timezone.now())
    assert past.completed().count() > 0.9 * past.count()
    assert not past.completed().filter(Q(summary="") | Q(invoice_number="")).exists()
    assert past.completed().values("invoice_number").distinct().count() == past.completed().count()
    assert 0 < Job.objects.filter(no_charge=True).count() < 0.1 * Job.objects.count()
    assert Job.objects.filter(status=Job.Status.SCHEDULED, scheduled_start__gt=timezone.now()).exists()
    assert Job.objects.exclude(helpers=None).exists()


def test_phone_digits_are_the_digits_of_the_phones_as_typed(demo_company):
    customers = list(Customer.objects.all())
    formats = {phone_digits(c.phone) == c.phone_digits and len(c.phone_digits) == 10 for c in customers}
    assert formats == {True}
    assert all(c.alt_phone_digits == phone_digits(c.alt_phone) for c in customers)
    assert len({c.phone_digits for c in customers}) == len(customers)
    assert len({c.phone[:1] for c in customers}) > 1  # typed in assorted formats: "(312)…", "312-…", "+1…"


def test_each_demo_login_signs_in_with_demo_and_holds_its_role_and_colleagues_too(demo_company, client):
    # One demo company for every login (loading it costs seconds).
    for username, role in DEMO_LOGINS.items():
        user = User.objects.get(username=username)

        assert client.login(username=username, password="demo"), username
        assert roles.roles_of(user) == {role}
        assert user.is_staff == (username == "manager")
        assert client.get(reverse("home"), follow=True).status_code == 200, username
        client.logout()

    assert client.login(username="tech8", password="demo")
    assert client.login(username="csr3", password="demo")
    assert User.objects.get(username="manager2").is_staff


def test_demo_manager_opens_the_admin_with_the_manager_permissions(demo_company, client):
    client.login(username="manager", password="demo")

    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_demo_technician_has_jobs_today_on_my_day(demo_company, client):
    technician = User.objects.get(username="technician")
    todays = Job.objects.assigned_to(technician).on_day(timezone.localdate())
    client.login(username="technician", password="demo")

    assert todays.count() >= 3
    body = client.get(reverse("home")).content.decode()
    assert todays.first().customer.name.replace("&", "&amp;").replace("'", "&#x27;") in body


def test_the_demo_is_the_same_in_every_fresh_database():
    now = timezone.now()
    demo.seed(now=now, log=_quiet)
    first = _snapshot()
    _empty_the_database()

    demo.seed(now=now, log=_quiet)

    assert _snapshot() == first


def test_bulk_create_writes_what_copy_writes(postgres):
    now = timezone.now()
    plan = demo.Plan(jobs=400, customers=60, technicians=4, csrs=1, managers=1, sales=1, days_back=60)
    demo.seed(plan=plan, now=now, log=_quiet, use_copy=True)
    copied = _snapshot()
    _empty_the_database()

    demo.seed(plan=plan, now=now, log=_quiet, use_copy=False)

    assert _snapshot() == copied


def test_seeding_again_leaves_the_demo_company_alone_quietly_with_once_and_refuses_without(demo_company, capsys):
    call_command("seed_demo", "--once")

    assert "already loaded" in capsys.readouterr().out
    assert Customer.objects.count() == 500
    assert _dispatched_jobs() == 3000

    with pytest.raises(CommandError, match="already loaded"):
        call_command("seed_demo")

    assert _dispatched_jobs() == 3000


def test_bad_scale_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="expected a number of jobs"):
        call_command("seed_demo", "--scale", "lots")


def test_scale_writes_that_many_jobs_with_consistent_foreign_keys():
    call_command("seed_demo", "--scale", "2000", verbosity=0)

    assert _dispatched_jobs() == 2000
    assert Customer.objects.count() == 200
    assert User.objects.filter(groups__name=roles.TECHNICIAN).count() == 40
    assert User.objects.filter(groups__name=roles.CSR).count() == 12
    assert not Job.objects.exclude(site__customer=F("customer")).exists()
    assert not Job.objects.filter(equipment__isnull=False).exclude(equipment__site=F("site")).exists()
    assert not Job.objects.exclude(lead_technician__groups__name=roles.TECHNICIAN).exists()
    assert not Job.objects.filter(helpers=F("lead_technician")).exists()
    assert not Job.objects.filter(scheduled_end__lt=F("scheduled_start")).exists()
    oldest = Job.objects.order_by("scheduled_start").first().scheduled_start
    assert timezone.now() - oldest > timedelta(days=3 * 365 - 30)
    # The id sequences were moved past the explicit ids, so ordinary inserts still work.
    job = JobFactory()
    assert job.pk > 2000 and job.site.pk > Site.objects.filter(external_id__startswith="DEMO-").count()


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("url_name", "query", "expected"),
    [
        ("admin:customers_customer_changelist", {"q": "+1 312 555 0100", "site_type": "residential"}, "Ada Lovelace"),
        ("admin:customers_customer_changelist", {"q": "INV-777", "contact_opt_out__exact": "0"}, "Ada Lovelace"),
        ("admin:customers_site_changelist", {"q": "Analytical", "site_type__exact": "residential"}, "1 Analytical"),
        ("admin:customers_equipment_changelist", {"q": "SN-424242", "kind__exact": "furnace"}, "SN-424242"),
        ("admin:customers_job_changelist", {"q": "INV-777", "status__exact": "completed"}, "INV-777"),
        ("admin:customers_job_changelist", {"q": "lovelace", "kind__exact": "service_call"}, "INV-777"),
        ("admin:servicedesk_workerheartbeat_changelist", {"q": "wor", "last_seen__gte": "2000-01-01T00:00Z"}, "worker"),
    ],
)
def test_admin_lists_answer_with_search_and_a_filter(admin_client_, url_name, query, expected):
    customer = CustomerFactory(name="Ada Lovelace", phone="(312) 555-0100", phone_digits="3125550100")
    site = SiteFactory(customer=customer, street="1 Analytical Engine Way")
    equipment = EquipmentFactory(site=site, serial_number="SN-424242")
    JobFactory(site=site, customer=customer, equipment=equipment, invoice_number="INV-777", completed=True)
    JobFactory(site__customer__name="Charles Babbage", invoice_number="INV-778", completed=True)
    WorkerHeartbeat.objects.create(name="worker", last_seen=timezone.now())

    response = admin_client_.get(reverse(url_name), query)

    assert response.status_code == 200
    body = response.content.decode()
    assert expected in body
    assert "Charles Babbage" not in body and "INV-778" not in body


def test_admin_job_list_filters_by_technician_and_opens_the_edit_pages(admin_client_, technician):
    job = JobFactory(lead_technician=technician, completed=True)
    other = JobFactory()

    listing = admin_client_.get(reverse("admin:customers_job_changelist"), {"technician": technician.pk})

    assert listing.status_code == 200
    assert reverse("admin:customers_job_change", args=[job.pk]) in listing.content.decode()
    assert reverse("admin:customers_job_change", args=[other.pk]) not in listing.content.decode()
    assert admin_client_.get(reverse("admin:customers_job_change", args=[job.pk])).status_code == 200
    assert admin_client_.get(reverse("admin:customers_customer_change", args=[job.customer.pk])).status_code == 200
    assert admin_client_.get(reverse("admin:customers_site_change", args=[job.site.pk])).status_code == 200


def test_in_production_the_demo_company_is_refused_and_creates_no_login(settings):
    settings.DJANGO_ENV = "production"

    with pytest.raises(CommandError, match="Refusing to load the demo company with DJANGO_ENV=production") as refused:
        call_command("seed_demo", "--scale", "100", verbosity=0)

    assert "--create-guessable-logins-in-production" in str(refused.value)
    assert not User.objects.exists() and not Job.objects.exists()


def test_in_production_the_flag_that_says_what_it_does_loads_it(settings):
    settings.DJANGO_ENV = "production"

    call_command("seed_demo", "--scale", "100", "--create-guessable-logins-in-production", verbosity=0)

    assert User.objects.filter(username="csr").exists()
