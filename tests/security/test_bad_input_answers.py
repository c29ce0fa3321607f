"""Input the probe found answering 500 now gets a clear page: a page number past any list, a NUL in the callback
search, extra forms on the follow-up intervals."""

import pytest
from django.urls import reverse

from recommendations.models import FollowUpInterval
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HUGE_PAGE = "99999999999999999999"


@pytest.mark.parametrize("name", ["customers:list", "customers:job_list", "callbacks:list", "callbacks:mine",
                                  "recommendations:list"])
def test_a_page_number_too_large_for_the_database_shows_the_last_page(client_for, manager, name):
    CustomerFactory(name="Ana Ortiz")
    CompletedJobFactory()

    response = client_for(manager).get(reverse(name), {"page": HUGE_PAGE})

    assert response.status_code == 200


def test_a_page_past_the_end_of_a_long_list_shows_its_last_page(client_for, manager):
    CustomerFactory.create_batch(3)

    response = client_for(manager).get(reverse("customers:list"), {"page": "20000"})

    assert response.status_code == 200
    assert response.context["page"].number == response.context["page"].paginator.num_pages


@pytest.mark.parametrize("query", ["\x00", "Ana\x00", "555\x00 0101"])
def test_a_nul_in_the_log_a_callback_search_is_ignored(client_for, csr, query):
    CustomerFactory(name="Ana Ortiz")

    response = client_for(csr).get(reverse("callbacks:new"), {"q": query})

    assert response.status_code == 200
    assert "\x00" not in response.content.decode()


def test_raising_total_forms_on_the_follow_up_intervals_adds_no_interval(client_for, manager):
    intervals = list(FollowUpInterval.objects.order_by("days"))
    data = {
        "form-TOTAL_FORMS": str(len(intervals) + 2),
        "form-INITIAL_FORMS": str(len(intervals)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for index, interval in enumerate(intervals):
        data[f"form-{index}-id"] = str(interval.pk)
        data[f"form-{index}-days"] = str(interval.days + 1)
    data[f"form-{len(intervals)}-days"] = "5"
    data[f"form-{len(intervals) + 1}-days"] = "9"

    response = client_for(manager).post(reverse("recommendations:intervals"), data)

    assert response.status_code == 302
    assert FollowUpInterval.objects.count() == len(intervals) == 3
    assert [interval.days for interval in FollowUpInterval.objects.order_by("days")] == [
        interval.days + 1 for interval in intervals
    ]
