"""The callback list (issue 8): the rows, the filters and the technician's callbacks read the same after the list
was made cheap to serve (rows and options rendered by callbacks/templatetags/callback_tags.py, jobs and people
looked up by key, the technician matched on each callback's own jobs)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback
from customers.models import Job
from tests.callbacks.factories import CallbackFactory
from tests.factories import CustomerFactory, JobFactory, SiteFactory, TechnicianFactory, UserFactory

pytestmark = pytest.mark.django_db

State = Callback.State


def listing(client, **params):
    response = client.get(reverse("callbacks:list"), params)
    assert response.status_code == 200
    return response


def test_a_row_shows_the_callback_its_clock_and_the_people_on_it(client_for, csr):
    revisit = JobFactory(kind=Job.Kind.CALLBACK_REVISIT, lead_technician__first_name="Rita",
                         lead_technician__last_name="Fix")
    callback = CallbackFactory(
        job__lead_technician__first_name="Cody", job__lead_technician__last_name="Cause",
        problem="one two three four five six seven eight nine ten eleven twelve", urgency="emergency",
        state=State.ACKNOWLEDGED, is_repeat=True, revisit_job=revisit,
        assigned_to=UserFactory(username="owner-without-a-name", first_name="", last_name=""),
        revisit_due_at=timezone.now() - timedelta(days=2, hours=1),
    )
    starts = timezone.localtime(revisit.scheduled_start)

    html = listing(client_for(csr)).content.decode()

    link = html.index(f"#{callback.pk}<")
    row = html[html.rindex("<tr", 0, link):html.index("</tr>", link)]
    assert row.startswith('<tr class="table-danger">')
    assert f'#{callback.pk}</a> <span class="badge text-bg-danger">repeat</span>' in row
    assert "one two three four five six seven eight nine ten …" in row
    assert f"{callback.customer.name}<div" in row and callback.site.street in row
    assert "<td>Emergency</td>" in row and "<td>Acknowledged</td>" in row
    assert "<td>Revisit: <strong>overdue 2\xa0days, 1\xa0hour</strong></td>" in row
    assert "<td>Cody Cause</td>" in row
    hour = starts.strftime("%I").lstrip("0")
    assert f"<td>Rita Fix, {starts:%b} {starts.day} {hour}:{starts:%M} {starts:%p}</td>" in row
    assert "<td>owner-without-a-name</td>" in row


def test_a_row_without_a_clock_revisit_or_owner_shows_dashes(client_for, csr):
    CallbackFactory(state=State.RESOLVED, root_cause="workmanship", next_update_due_at=None, due_at=None,
                    assigned_to=None, job__lead_technician=None)

    html = listing(client_for(csr)).content.decode()

    assert html.count("<td>—</td>") == 4  # due, caused by, fixing, owner
    assert 'class="table-danger"' not in html


def test_what_customers_and_staff_typed_is_escaped(client_for, csr):
    CallbackFactory(problem="<script>alert(1)</script>", customer=CustomerFactory(name="<b>Bold</b> & Co"),
                    site=SiteFactory(street="1 <i>Main</i> St"))

    html = listing(client_for(csr)).content.decode()

    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html and "1 &lt;i&gt;Main&lt;/i&gt; St" in html


def test_no_rows_says_so(client_for, csr):
    assert '<td colspan="8" class="text-body-secondary">No callbacks match.</td>' in listing(
        client_for(csr)).content.decode()


def test_the_filters_keep_what_was_chosen(client_for, csr, technician):
    html = listing(client_for(csr), urgency="high", technician=technician.pk, overdue="true").content.decode()

    assert '<option value="high" selected>High</option>' in html
    assert f'<option value="{technician.pk}" selected>Tom Alvarez</option>' in html  # by name, not login
    assert '<option value="true" selected>Overdue</option>' in html
    assert '<option value="" selected>Open (any status but closed)</option>' in html
    assert html.count(" selected>") == 5


def test_a_bad_filter_value_is_shown_as_an_error_and_the_others_still_apply(client_for, csr):
    repeat = CallbackFactory(is_repeat=True)
    CallbackFactory()

    response = listing(client_for(csr), urgency="bogus", repeat="true")

    html = response.content.decode()
    assert 'class="select form-select is-invalid" aria-invalid="true" aria-describedby="id_urgency_error"' in html
    assert '<p id="error_1_id_urgency"><strong>Select a valid choice. bogus is not one of the' in html
    assert list(response.context["page"].object_list) == [repeat]


def test_overdue_lists_open_callbacks_past_due_only(client_for, csr):
    past = timezone.now() - timedelta(hours=1)
    overdue = CallbackFactory(due_at=past)
    CallbackFactory(due_at=timezone.now() + timedelta(hours=1))
    CallbackFactory(state=State.CLOSED, closed_at=past, root_cause="workmanship", due_at=past)
    client = client_for(csr)

    assert list(listing(client, overdue="true").context["page"].object_list) == [overdue]
    assert list(listing(client, overdue="true", state="all").context["page"].object_list) == [overdue]


def test_the_technician_filter_finds_the_jobs_they_led_helped_on_or_revisit(client_for, csr, technician):
    led = CallbackFactory(job__lead_technician=technician)
    helped = CallbackFactory()
    helped.job.helpers.add(technician)
    revisits = CallbackFactory(revisit_job=JobFactory(lead_technician=technician, kind=Job.Kind.CALLBACK_REVISIT))
    helps_revisit = CallbackFactory(revisit_job=JobFactory(kind=Job.Kind.CALLBACK_REVISIT))
    helps_revisit.revisit_job.helpers.add(technician)
    other = CallbackFactory(revisit_job=JobFactory(kind=Job.Kind.CALLBACK_REVISIT))
    other.job.helpers.add(TechnicianFactory())
    expected = {led, helped, revisits, helps_revisit}

    page = listing(client_for(csr), technician=technician.pk).context["page"]
    mine = Callback.objects.visible_to(technician)

    assert set(page.object_list) == expected and len(page.object_list) == 4
    assert set(mine) == expected and mine.count() == 4


def test_all_lists_closed_callbacks_after_the_open_ones(client_for, csr):
    now = timezone.now()
    closed = CallbackFactory(state=State.CLOSED, closed_at=now, root_cause="workmanship", due_at=None)
    later = CallbackFactory(due_at=now + timedelta(hours=5))
    sooner = CallbackFactory(due_at=now - timedelta(hours=5))

    page = listing(client_for(csr), state="all").context["page"]

    assert list(page.object_list) == [sooner, later, closed]


@pytest.mark.parametrize("rows", [2, 12])
def test_filtered_list_query_count_does_not_grow_with_rows(client_for, csr, technician, django_assert_num_queries,
                                                            rows):
    for _ in range(rows):
        CallbackFactory(job__lead_technician=technician, urgency="high",
                        revisit_job=JobFactory(kind=Job.Kind.CALLBACK_REVISIT))
    client = client_for(csr)
    params = {"technician": technician.pk, "urgency": "high", "page": "1"}
    client.get(reverse("callbacks:list"), params)

    # session, user, roles, technicians (checking the choice, then listing them), count, page, jobs, people,
    # unread notifications
    with django_assert_num_queries(10):
        response = client.get(reverse("callbacks:list"), params)
    assert len(response.context["page"].object_list) == rows
