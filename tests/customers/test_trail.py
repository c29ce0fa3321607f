"""Issue 17, point 10: the trail of a job (booked, each status change, completed: who, when, through which door)
and of the customer's consent (reminder e-mails on and off, unsubscribed, contact opted out and back in), shown on
the job page and in the customer's history."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.importing import KINDS, apply_import
from customers.models import AbusiveCall, ConsentEvent, Job, JobEvent
from customers.services import customer_opt_out_of_contact, job_book, job_complete
from servicedesk import tokens
from servicedesk.audit import Via
from tests.factories import CustomerFactory, JobFactory, SiteFactory, TechnicianFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Job.Status
Consent = ConsentEvent.Action
DATA = Path(__file__).parent / "data"


def _trail(job):
    return list(JobEvent.objects.filter(job=job).order_by("pk").values_list(
        "action", "from_status", "to_status", "via", "by"))


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


# --- the job's trail ------------------------------------------------------------------------------------------------


def test_completing_a_job_on_the_technicians_page_records_who_when_and_the_page(client_for, technician):
    job = JobFactory(lead_technician=technician)
    data = {"summary": "Cleaned burners", "new-TOTAL_FORMS": "0", "new-INITIAL_FORMS": "0",
            "new-MIN_NUM_FORMS": "0", "new-MAX_NUM_FORMS": "10"}

    response = client_for(technician).post(reverse("recommendations:complete_job", args=[job.pk]), data)

    assert response.status_code == 302
    event = JobEvent.objects.get(job=job)
    job.refresh_from_db()
    assert (event.action, event.from_status, event.to_status, event.via, event.by) == (
        "completed", Status.SCHEDULED, Status.COMPLETED, Via.PAGE, technician)
    assert event.at == job.completed_at


def test_booking_and_completing_through_another_door_records_that_door(csr, technician):
    site = SiteFactory()
    start = timezone.now() + timedelta(days=1)

    job = job_book(customer_id=site.customer_id, site_id=site.pk, kind=Job.Kind.SERVICE_CALL, scheduled_start=start,
                   scheduled_end=start + timedelta(hours=2), summary="No heat", by=csr, via=Via.API)
    job_complete(job=job, completed_by=technician, summary="Relit the pilot", via=Via.API)

    assert _trail(job) == [
        ("booked", "", Status.SCHEDULED, Via.API, csr.pk),
        ("completed", Status.SCHEDULED, Status.COMPLETED, Via.API, technician.pk),
    ]


def test_a_refused_completion_leaves_no_trail(technician):
    job = JobFactory(lead_technician=technician)

    with pytest.raises(Exception):  # noqa: B017 — whichever refusal: nothing may be recorded
        job_complete(job=job, completed_by=technician, summary="")

    assert not JobEvent.objects.exists()


def _admin_job_data(job, **changes):
    local = timezone.localtime
    data = {
        "customer": job.customer_id, "site": job.site_id, "equipment": "", "kind": job.kind, "status": job.status,
        "scheduled_start_0": f"{local(job.scheduled_start):%Y-%m-%d}",
        "scheduled_start_1": f"{local(job.scheduled_start):%H:%M:%S}",
        "scheduled_end_0": f"{local(job.scheduled_end):%Y-%m-%d}",
        "scheduled_end_1": f"{local(job.scheduled_end):%H:%M:%S}",
        "lead_technician": job.lead_technician_id, "completed_at_0": "", "completed_at_1": "",
        "summary": job.summary, "invoice_number": job.invoice_number, "external_id": "",
    }
    return {**data, **changes}


def test_a_status_changed_in_the_admin_is_recorded_with_the_manager_and_the_admin(client_for, superuser):
    technician = TechnicianFactory()
    job = JobFactory(lead_technician=technician)
    client = client_for(superuser)
    url = reverse("admin:customers_job_change", args=[job.pk])

    response = client.post(url, _admin_job_data(job, status=Status.IN_PROGRESS))
    assert response.status_code == 302, response.context["adminform"].form.errors
    client.post(url, _admin_job_data(job, status=Status.IN_PROGRESS, summary="Only the summary changed"))

    assert _trail(job) == [("status_changed", Status.SCHEDULED, Status.IN_PROGRESS, Via.ADMIN, superuser.pk)]


def test_a_job_added_in_the_admin_is_recorded_as_booked_there(client_for, superuser):
    template = JobFactory.build(site=SiteFactory(), lead_technician=TechnicianFactory())
    template.customer = template.site.customer

    response = client_for(superuser).post(reverse("admin:customers_job_add"), _admin_job_data(template))

    assert response.status_code == 302
    assert _trail(Job.objects.get()) == [("booked", "", Status.SCHEDULED, Via.ADMIN, superuser.pk)]


@pytest.fixture
def crew(technician):
    TechnicianFactory(username="helper1")
    TechnicianFactory(username="hlee", first_name="Hana", last_name="Lee")


def test_the_import_records_each_job_it_books_or_moves_by_whom_and_nothing_when_nothing_changed(crew, manager):
    for kind in KINDS:
        apply_import(kind=kind, data=(DATA / f"{kind}.csv").read_bytes(), by=manager)
    jobs = (DATA / "jobs.csv").read_bytes()

    first = {event.job.external_id: (event.action, event.from_status, event.to_status, event.via, event.by)
             for event in JobEvent.objects.select_related("job")}
    assert first == {
        "J-1": ("completed", "", Status.COMPLETED, Via.IMPORT, manager),
        "J-2": ("booked", "", Status.SCHEDULED, Via.IMPORT, manager),
        "J-3": ("booked", "", Status.CANCELLED, Via.IMPORT, manager),
    }

    apply_import(kind="jobs", data=jobs)  # the same file again, from the shell
    assert JobEvent.objects.count() == 3

    apply_import(kind="jobs", data=jobs.replace(b"E-3,Service,Dispatched", b"E-3,Service,Working"))
    moved = JobEvent.objects.latest("pk")
    assert (moved.job.external_id, moved.action, moved.from_status, moved.to_status, moved.via, moved.by) == (
        "J-2", "status_changed", Status.SCHEDULED, Status.IN_PROGRESS, Via.IMPORT, None)


def test_the_import_page_records_the_manager_who_confirmed_it(client_for, manager, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    SiteFactory(external_id="L-9", customer__external_id="C-9")
    client = client_for(manager)
    upload = SimpleUploadedFile("jobs.csv", b"Job ID,Site ID,Start\nJ-9,L-9,2025-04-01 08:00\n", "text/csv")
    client.post(reverse("customers:import"), {"kind": "jobs", "file": upload})

    client.post(reverse("customers:import_confirm"), {"token": client.session["customers_import"]["token"]})

    assert _trail(Job.objects.get(external_id="J-9")) == [("booked", "", Status.SCHEDULED, Via.IMPORT, manager.pk)]


# --- consent ----------------------------------------------------------------------------------------------------------


def _consents(customer):
    return list(ConsentEvent.objects.filter(customer=customer).order_by("pk").values_list("action", "via", "by"))


def test_reminders_turned_on_and_off_on_the_customer_page_are_recorded(client_for, csr):
    customer = CustomerFactory()
    client = client_for(csr)
    url = reverse("customers:reminders_set", args=[customer.pk])

    client.post(url, {"opt_in": "yes"})
    client.post(url, {"opt_in": "yes"})  # already on: nothing changes, nothing recorded
    client.post(url, {"opt_in": "no"})

    assert _consents(customer) == [
        (Consent.REMINDERS_OPT_IN, Via.PAGE, csr.pk), (Consent.REMINDERS_OPT_OUT, Via.PAGE, csr.pk)]


def test_unsubscribing_through_the_link_is_recorded_once(client):
    customer = CustomerFactory(reminders_opt_in=True)
    url = reverse("public:unsubscribe", args=[tokens.make_unsubscribe_token(customer)])

    client.post(url)
    client.post(url)

    assert _consents(customer) == [(Consent.UNSUBSCRIBED, Via.LINK, None)]


def test_an_opt_out_of_contact_is_recorded_the_first_time_only(csr):
    customer = CustomerFactory()

    customer_opt_out_of_contact(customer_id=customer.pk, by=csr, note="Asked on the phone.")
    customer_opt_out_of_contact(customer_id=customer.pk, by=csr)

    event = ConsentEvent.objects.get(customer=customer)
    assert (event.action, event.by, event.note) == (Consent.CONTACT_OPT_OUT, csr, "Asked on the phone.")


def test_consent_changed_in_the_admin_is_recorded(client_for, superuser):
    customer = CustomerFactory(name="Ada Lovelace")
    data = {"name": customer.name, "phone": customer.phone, "alt_phone": "", "email": customer.email,
            "alt_email": "", "preferred_contact": "phone", "notes": "", "contact_opt_out": "on",
            "contact_opt_out_at_0": "", "contact_opt_out_at_1": "", "reminders_opt_in": "on", "external_id": "",
            "sites-TOTAL_FORMS": "0", "sites-INITIAL_FORMS": "0", "sites-MIN_NUM_FORMS": "0",
            "sites-MAX_NUM_FORMS": "1000"}

    response = client_for(superuser).post(reverse("admin:customers_customer_change", args=[customer.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert sorted(_consents(customer)) == [
        (Consent.CONTACT_OPT_OUT, Via.ADMIN, superuser.pk), (Consent.REMINDERS_OPT_IN, Via.ADMIN, superuser.pk)]


def test_an_import_that_opts_customers_out_of_contact_or_back_in_is_recorded(db):
    header = b"Customer ID,Name,Do not contact\n"
    apply_import(kind="customers", data=header + b"C-1,Ada Lovelace,no\nC-2,Alan Turing,yes\n")
    apply_import(kind="customers", data=header + b"C-1,Ada Lovelace,yes\nC-2,Alan Turing,no\n")

    events = [(event.customer.external_id, event.action, event.via)
              for event in ConsentEvent.objects.select_related("customer").order_by("pk")]
    assert events == [
        ("C-2", Consent.CONTACT_OPT_OUT, Via.IMPORT),
        ("C-1", Consent.CONTACT_OPT_OUT, Via.IMPORT),
        ("C-2", Consent.CONTACT_OPT_IN, Via.IMPORT),
    ]


# --- where the trail is shown ---------------------------------------------------------------------------------------


def _job_with_a_trail(events, technician):
    job = JobFactory(lead_technician=technician)
    for n in range(events):
        JobEvent.objects.create(job=job, action="status_changed", from_status=Status.SCHEDULED,
                                to_status=Status.IN_PROGRESS, by=technician, via=Via.ADMIN, note=f"Change {n}")
    return job


@pytest.mark.parametrize("events", [1, 15])
def test_the_job_page_shows_its_trail_with_a_constant_number_of_queries(client_for, csr, events,
                                                                        django_assert_num_queries):
    technician = TechnicianFactory(first_name="Tess", last_name="Tech")
    job = _job_with_a_trail(events, technician)
    client = client_for(csr)
    client.get(reverse("customers:job_detail", args=[job.pk]))  # warm the session and the user's roles

    # session, user, roles, unread notifications, the job, its helpers, its trail, its do-not-service outcome
    with django_assert_num_queries(8):
        response = client.get(reverse("customers:job_detail", args=[job.pk]))

    body = response.content.decode()
    assert body.count("Scheduled → In progress") == events
    assert f"Change {events - 1}" in body and "Tess Tech" in body and "in the admin" in body


def test_the_customer_history_shows_the_job_trail_and_consent_changes(client_for, csr, technician):
    job = JobFactory(lead_technician=technician, invoice_number="INV-42")
    job_complete(job=job, completed_by=technician, summary="Replaced the igniter")
    customer = job.customer
    customer_opt_out_of_contact(customer_id=customer.pk, by=csr, note="Asked on follow-up call #7.")

    body = client_for(csr).get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert "Service call #INV-42 completed on the page" in body
    assert "Opted out of contact on the page" in body and "Asked on follow-up call #7." in body


def test_the_customer_history_reads_every_trail_in_one_query_newest_first(
    client_for, csr, technician, django_assert_num_queries
):
    job = JobFactory(lead_technician=technician, invoice_number="INV-51")
    customer = job.customer
    client = client_for(csr)
    client.get(reverse("customers:detail", args=[customer.pk]))  # warm the session

    with CaptureQueriesContext(connection) as without_trail:
        client.get(reverse("customers:detail", args=[customer.pk]))
    job_complete(job=job, completed_by=technician, summary="Relit the pilot")
    customer_opt_out_of_contact(customer_id=customer.pk, by=csr, note="Asked not to be called.")
    AbusiveCall.objects.create(customer=customer, recorded_by=csr, warned=True, what_happened="Shouted and swore.",
                               ended_at=timezone.now() + timedelta(minutes=5))

    with django_assert_num_queries(len(without_trail)):
        body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    newest_first = ["Call ended for abuse, after a warning", "Opted out of contact on the page",
                    "Service call #INV-51 completed on the page"]
    assert all(title in body for title in newest_first)
    assert [body.index(title) for title in newest_first] == sorted(body.index(title) for title in newest_first)
