from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback, UrgencyTarget
from customers.models import Customer, Job
from servicedesk.models import Notification
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.factories import CustomerFactory, JobFactory, SiteFactory

pytestmark = pytest.mark.django_db

State = Callback.State


def detail(callback):
    return reverse("callbacks:detail", args=[callback.pk])


def action(name, callback):
    return reverse(f"callbacks:{name}", args=[callback.pk])


# --- logging a callback -------------------------------------------------------------------------------------------


def test_search_finds_the_customer_by_phone_in_another_format(client_for, csr):
    CustomerFactory(name="Grace Hopper", phone="(555) 010-2233", phone_digits="5550102233")
    client = client_for(csr)

    response = client.get(reverse("callbacks:new"), {"q": "+1 555.010.2233"},
                          headers={"HX-Request": "true", "HX-Target": "customer-results"})

    body = response.content.decode()
    assert "Grace Hopper" in body and "<html" not in body


def test_unknown_phone_says_so_and_offers_to_add_the_customer(client_for, csr):
    response = client_for(csr).get(reverse("callbacks:new"), {"q": "(555) 999-0000"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "No customer has the phone number" in body and "add the customer" in body


def test_picking_the_customer_preselects_the_latest_completed_job(client_for, csr):
    site = SiteFactory()
    now = timezone.now()
    older = JobFactory(site=site, completed=True, scheduled_start=now - timedelta(days=20))
    latest = JobFactory(site=site, completed=True, scheduled_start=now - timedelta(days=2))
    JobFactory(site=site, kind=Job.Kind.CALLBACK_REVISIT, completed=True, scheduled_start=now - timedelta(days=1))
    JobFactory(site=site, scheduled_start=now + timedelta(days=3))  # still to come: not a candidate

    response = client_for(csr).get(reverse("callbacks:new"), {"customer": site.customer.pk})

    form = response.context["form"]
    assert form.fields["job"].initial == latest.pk
    assert [job.pk for job in form.jobs][1:] == [latest.pk, older.pk]
    assert f'value="{latest.pk}"\n                 checked' in response.content.decode()


def test_logging_takes_one_submit_and_lands_on_the_callback(client_for, csr):
    job = CompletedJobFactory()
    client = client_for(csr)

    response = client.post(reverse("callbacks:new"), {
        "customer": job.customer.pk, "job": job.pk, "problem": "Water heater leaking again",
        "channel": "phone", "urgency": "high",
    })

    callback = Callback.objects.get()
    assert response.status_code == 302 and response.url == detail(callback)
    assert (callback.job, callback.urgency, callback.logged_by) == (job, "high", csr)


def test_logging_without_a_job_is_a_form_error(client_for, csr):
    job = CompletedJobFactory()

    response = client_for(csr).post(reverse("callbacks:new"), {
        "customer": job.customer.pk, "problem": "Leaking", "channel": "phone", "urgency": "normal",
    })

    assert response.status_code == 200
    assert "Pick the job this callback is about." in response.content.decode()
    assert not Callback.objects.exists()


def test_a_customer_with_no_job_on_record_is_told_to_log_the_original_visit_first(client_for, csr):
    customer = CustomerFactory(name="New Caller")

    response = client_for(csr).post(reverse("callbacks:new"), {
        "customer": customer.pk, "problem": "Leaking", "channel": "phone", "urgency": "normal",
    })

    assert "log the original visit first" in response.content.decode()
    assert not Callback.objects.exists()


def test_logging_without_a_customer_is_a_form_error(client_for, csr):
    response = client_for(csr).post(reverse("callbacks:new"), {"problem": "x", "channel": "phone",
                                                               "urgency": "normal"})

    assert response.status_code == 200 and not Callback.objects.exists()


def test_an_unknown_caller_can_be_added_inline(client_for, csr):
    response = client_for(csr).post(reverse("callbacks:new"), {
        "new-name": "Ada Lovelace", "new-phone": "555-010-7777", "new-street": "12 Analytical Way",
        "new-city": "Springfield",
    })

    customer = Customer.objects.get(name="Ada Lovelace")
    assert customer.phone_digits == "5550107777" and customer.sites.get().street == "12 Analytical Way"
    assert response.url == f"{reverse('callbacks:new')}?customer={customer.pk}"


def test_the_repeat_warning_shows_before_saving(client_for, csr):
    earlier = CallbackFactory()
    client = client_for(csr)

    warning = client.get(reverse("callbacks:repeat_check"), {"job": earlier.job.pk}).content.decode()
    page = client.get(reverse("callbacks:new"), {"customer": earlier.customer.pk}).content.decode()

    assert "Repeat callback" in warning and "This job already has a callback" in warning
    assert "Repeat callback" in page


def test_no_repeat_warning_for_a_fresh_job(client_for, csr):
    job = CompletedJobFactory()

    warning = client_for(csr).get(reverse("callbacks:repeat_check"), {"job": job.pk}).content.decode()

    assert "Repeat" not in warning


# --- the callback page --------------------------------------------------------------------------------------------


def test_a_transition_out_of_order_is_a_message_not_an_error(client_for, csr):
    callback = CallbackFactory()
    client = client_for(csr)

    response = client.post(action("close", callback), {"outcome": "fixed"}, follow=True)

    assert response.status_code == 200
    assert "closed only after it is resolved" in response.content.decode()
    callback.refresh_from_db()
    assert callback.state == State.NEW


def test_faulty_part_without_evidence_is_shown_on_the_form(client_for, csr):
    callback = services.callback_acknowledge(callback=CallbackFactory(), by=csr)

    response = client_for(csr).post(action("resolve", callback), {
        "root_cause": "faulty_part", "resolution": "Replaced the igniter", "faulty_part": "Igniter",
    })

    body = response.content.decode()
    assert response.status_code == 200
    assert "A faulty part needs its supplier" in body and "A faulty part needs its return / RMA reference" in body
    callback.refresh_from_db()
    assert callback.state == State.ACKNOWLEDGED


def test_the_page_shows_the_timeline_checklist_and_clock(client_for, csr):
    callback = services.callback_log(job=CompletedJobFactory(), problem="No heat upstairs", channel="phone",
                                     urgency="emergency", logged_by=csr, now=timezone.now() - timedelta(hours=2))
    services.callback_acknowledge(callback=callback, by=csr)
    services.callback_record_contact(callback=callback, by=csr, kind="call", summary="Told her the tech is coming")

    body = client_for(csr).get(detail(callback)).content.decode()

    assert "No heat upstairs" in body and "Told her the tech is coming" in body
    assert "Revisit" in body and "due in" in body
    assert "Skipped:" in body and "Apologised for the problem" in body


def test_an_overdue_callback_says_by_how_much(client_for, csr):
    callback = services.callback_log(job=CompletedJobFactory(), problem="No heat", channel="phone",
                                     urgency="emergency", logged_by=csr, now=timezone.now() - timedelta(hours=3))

    body = client_for(csr).get(detail(callback)).content.decode()

    assert "overdue by" in body


def test_csr_acknowledges_and_schedules_the_revisit_from_the_page(client_for, csr, technician):
    callback = CallbackFactory()
    client = client_for(csr)
    start = (timezone.localtime() + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")

    client.post(action("acknowledge", callback), {"note": "Apologised twice"})
    response = client.post(action("schedule_revisit", callback), {"technician": technician.pk, "start": start,
                                                                   "no_charge": "on"})

    callback.refresh_from_db()
    assert response.status_code == 302
    assert callback.state == State.REVISIT_SCHEDULED and callback.revisit_job.lead_technician == technician
    assert callback.revisit_job.no_charge


def test_checking_a_step_and_other_work_from_the_page(client_for, csr):
    callback = CallbackFactory()
    client = client_for(csr)

    client.post(action("step", callback), {"step": "apologised"})
    response = client.post(action("step", callback), {"step": "other_work", "answer": ""})

    assert set(callback.recovery_steps.values_list("step", flat=True)) == {"apologised"}
    assert "Say whether the customer wants other work." in response.content.decode()


def test_hand_off_from_the_page(client_for, csr, manager):
    callback = CallbackFactory(logged_by=csr)

    client_for(csr).post(action("hand_off", callback), {"to_user": manager.pk, "warm": "1", "note": "Three-way"})

    callback.refresh_from_db()
    assert callback.assigned_to == manager and callback.hand_offs.get().warm


# --- who sees and does what ---------------------------------------------------------------------------------------


def test_technician_sees_only_callbacks_on_their_own_jobs(client_for, technician):
    caused = CallbackFactory(job__lead_technician=technician)
    fixing = CallbackFactory(revisit_job=JobFactory(lead_technician=technician, kind=Job.Kind.CALLBACK_REVISIT))
    other = CallbackFactory()
    client = client_for(technician)

    listing = client.get(reverse("callbacks:list")).content.decode()

    assert f"#{caused.pk}<" in listing and f"#{fixing.pk}<" in listing and f"#{other.pk}<" not in listing
    assert client.get(detail(caused)).status_code == 200
    assert client.get(detail(other)).status_code == 404


def test_the_fixing_technician_resolves_but_the_one_who_caused_it_cannot(client_for, technician):
    caused = services.callback_acknowledge(callback=CallbackFactory(job__lead_technician=technician),
                                           by=technician)
    fixing = CallbackFactory(state=State.REVISIT_SCHEDULED,
                             revisit_job=JobFactory(lead_technician=technician, kind=Job.Kind.CALLBACK_REVISIT))
    client = client_for(technician)
    data = {"root_cause": "workmanship", "resolution": "Resealed the flue"}

    assert client.post(action("resolve", caused), data).status_code == 403
    assert client.post(action("resolve", fixing), data).status_code == 302
    fixing.refresh_from_db()
    assert fixing.state == State.RESOLVED and fixing.resolved_by == technician


def test_technician_cannot_acknowledge_or_log(client_for, technician):
    callback = CallbackFactory(job__lead_technician=technician)
    client = client_for(technician)

    assert client.post(action("acknowledge", callback)).status_code == 403
    assert client.get(reverse("callbacks:new")).status_code == 403


@pytest.mark.parametrize("role", ["outsider", "sales"])
def test_outsiders_see_no_callbacks(request, client_for, role):
    callback = CallbackFactory()
    client = client_for(request.getfixturevalue(role))

    for url in (reverse("callbacks:list"), reverse("callbacks:mine"), reverse("callbacks:new"), detail(callback),
                reverse("callbacks:targets")):
        assert client.get(url).status_code == 403
    assert client.post(action("acknowledge", callback)).status_code == 403


def test_only_managers_change_urgency_targets(client_for, manager, csr, technician):
    data = {f"{u}-{f}": v for u in ("emergency", "high", "normal")
            for f, v in (("first_contact_hours", "2"), ("revisit_hours", "6"))}

    assert client_for(csr).post(reverse("callbacks:targets"), data).status_code == 403
    assert client_for(technician).get(reverse("callbacks:targets")).status_code == 403
    response = client_for(manager).post(reverse("callbacks:targets"), data)

    assert response.status_code == 302
    assert UrgencyTarget.objects.get(urgency="high").revisit_within == timedelta(hours=6)


def test_urgency_target_with_revisit_before_first_contact_is_a_form_error(client_for, manager):
    data = {f"{u}-{f}": v for u in ("emergency", "high", "normal")
            for f, v in (("first_contact_hours", "8"), ("revisit_hours", "2"))}

    response = client_for(manager).post(reverse("callbacks:targets"), data)

    assert response.status_code == 200 and "cannot be due before the first contact" in response.content.decode()
    assert UrgencyTarget.objects.get(urgency="high").revisit_within == timedelta(hours=24)


# --- lists, query counts, home, history, notifications -------------------------------------------------------------


def test_list_filters_by_repeat_and_overdue(client_for, csr):
    repeat = CallbackFactory(is_repeat=True)
    overdue = CallbackFactory(due_at=timezone.now() - timedelta(hours=1))
    client = client_for(csr)

    repeats = client.get(reverse("callbacks:list"), {"repeat": "true"}).context["page"].object_list
    overdues = client.get(reverse("callbacks:list"), {"overdue": "true"}).context["page"].object_list

    assert list(repeats) == [repeat] and list(overdues) == [overdue]


def test_list_filters_by_technician(client_for, csr, technician):
    mine = CallbackFactory(job__lead_technician=technician)
    CallbackFactory()

    page = client_for(csr).get(reverse("callbacks:list"), {"technician": technician.pk}).context["page"]

    assert list(page.object_list) == [mine]


def test_my_callbacks_are_the_ones_i_own(client_for, csr, manager):
    mine = CallbackFactory(logged_by=csr)
    CallbackFactory(logged_by=manager)

    page = client_for(csr).get(reverse("callbacks:mine")).context["page"]

    assert list(page.object_list) == [mine]


@pytest.mark.parametrize("rows", [2, 12])
def test_list_query_count_does_not_grow_with_rows(client_for, csr, django_assert_num_queries, rows):
    for _ in range(rows):
        CallbackFactory(revisit_job=JobFactory(kind=Job.Kind.CALLBACK_REVISIT))
    client = client_for(csr)
    client.get(reverse("callbacks:list"))

    # session, user, roles, count, page, its jobs, their people, unread notifications, technicians for the filter
    with django_assert_num_queries(9):
        response = client.get(reverse("callbacks:list"))
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("events", [1, 10])
def test_detail_query_count_does_not_grow_with_the_timeline(client_for, csr, django_assert_num_queries, events):
    callback = services.callback_log(job=CompletedJobFactory(), problem="Leak", channel="phone", urgency="normal",
                                     logged_by=csr)
    for n in range(events):
        services.callback_record_contact(callback=callback, by=csr, kind="note", summary=f"Note {n}")
    client = client_for(csr)
    client.get(detail(callback))

    # session, user, roles, callback, job helpers, steps, unread notifications, office staff (hand-off form),
    # training items, events
    with django_assert_num_queries(10):
        response = client.get(detail(callback))
    assert f"Note {events - 1}" in response.content.decode()


def test_office_today_lists_open_callbacks_overdue_first(client_for, csr):
    later = CallbackFactory(problem="Later one")
    overdue = CallbackFactory(problem="Overdue one", due_at=timezone.now() - timedelta(hours=1))

    response = client_for(csr).get(reverse("home"))

    assert list(response.context["open_callbacks"]) == [overdue, later]
    body = response.content.decode()
    assert body.index("Overdue one") < body.index("Later one")


def test_customer_history_shows_the_callback(client_for, csr):
    callback = CallbackFactory(problem="Drain backs up every morning")

    body = client_for(csr).get(reverse("customers:detail", args=[callback.customer.pk])).content.decode()

    assert "Drain backs up every morning" in body and detail(callback) in body


def test_notifications_are_counted_in_the_navbar_and_read_on_their_page(client_for, manager, csr,
                                                                      django_capture_on_commit_callbacks):
    job = CompletedJobFactory()
    CallbackFactory(job=job)
    with django_capture_on_commit_callbacks(execute=True):
        services.callback_log(job=job, problem="Again", channel="phone", urgency="normal", logged_by=csr)
    client = client_for(manager)

    assert "1<span class=\"visually-hidden\"> unread" in client.get(reverse("home")).content.decode()
    assert "Repeat callback" in client.get(reverse("notifications")).content.decode()
    client.post(reverse("notifications_read"))
    assert not Notification.objects.filter(recipient=manager, read_at=None).exists()
