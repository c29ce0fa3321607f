"""The follow-up dashboard on a hand-built set of calls whose answers are known."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import CallAttempt, FollowUpCall, Referral
from servicedesk.dashboards.filters import DashboardFilterForm
from servicedesk.dashboards.follow_up_rollup import refresh
from servicedesk.dashboards.follow_ups import FollowUpDashboard
from tests.callbacks.factories import CallbackFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
Outcome, State = FollowUpCall.Outcome, FollowUpCall.State


def _dashboard(**filters):
    return FollowUpDashboard(DashboardFilterForm(filters).scope())


def _row(table, key, value):
    return next(row for row in table.rows if row[key] == value)


@pytest.fixture
def calls(db):
    """Five calls due last week: two reached (satisfied 5, unhappy 2), one gave up after two no-answers, one still
    due and never tried, one cancelled; and one call due two years ago, outside the range."""
    due = timezone.now() - timedelta(days=7)
    carla, dana = UserFactory(username="carla", first_name="Carla", last_name="Reyes"), UserFactory(
        username="dana", first_name="Dana", last_name="Obi")
    happy = FollowUpCallFactory(due_at=due, state=State.DONE, attempts=1, outcome=Outcome.REACHED, satisfaction=5,
                                completed_by=carla, completed_at=due, review_requested_at=due, would_refer=True)
    unhappy = FollowUpCallFactory(due_at=due, state=State.DONE, attempts=1, outcome=Outcome.REACHED, satisfaction=2,
                                  completed_by=dana, completed_at=due, issues="Water on the floor again",
                                  callback=CallbackFactory())
    gave_up = FollowUpCallFactory(due_at=due, state=State.GAVE_UP, attempts=2, outcome=Outcome.NO_ANSWER)
    FollowUpCallFactory(due_at=due)
    FollowUpCallFactory(due_at=due, state=State.CANCELLED, cancel_reason="Customer opted out of contact.")
    FollowUpCallFactory(due_at=due - timedelta(days=730), state=State.DONE, attempts=1, outcome=Outcome.REACHED,
                        satisfaction=1, completed_by=carla)
    CallAttempt.objects.bulk_create([
        CallAttempt(call=happy, by=carla, at=due, outcome=Outcome.REACHED),
        CallAttempt(call=unhappy, by=dana, at=due, outcome=Outcome.REACHED),
        CallAttempt(call=gave_up, by=carla, at=due, outcome=Outcome.NO_ANSWER),
        CallAttempt(call=gave_up, by=carla, at=due + timedelta(days=1), outcome=Outcome.NO_ANSWER),
    ])
    Referral.objects.create(call=happy, referred_customer=CustomerFactory(), name="Neighbour", phone="5550100",
                            by=carla)
    return {"happy": happy, "unhappy": unhappy}


def test_calls_due_made_and_reach_rate(calls):
    summary = _dashboard().summary()

    assert _row(summary, "figure", "Calls due (not cancelled)")["n"] == 4
    assert _row(summary, "figure", "Calls made (at least one attempt)")["n"] == 3
    assert _row(summary, "figure", "Customers reached")["n"] == 2
    assert summary.extra["made_rate"] == Decimal("75.0")
    assert summary.extra["reach_rate"] == Decimal("66.7")
    assert summary.extra["satisfaction"] == 3.5
    assert _row(summary, "figure", "Still to call")["n"] == 1


def test_satisfaction_distribution_counts_customers_reached(calls):
    table = _dashboard().satisfaction()

    assert [row["n"] for row in table.rows] == [1, 0, 0, 1, 0]  # 5, 4, 3, 2, 1 of 5


def test_what_the_calls_found(calls):
    table = _dashboard().found()

    assert _row(table, "what", "Problems turned into callbacks")["n"] == 1
    assert _row(table, "what", "Referrals recorded (new customers)")["n"] == 1
    assert _row(table, "what", "Reviews asked on the call (before every customer got the link)")["n"] == 1
    assert _row(table, "what", "Issues mentioned since the visit")["n"] == 1


def test_per_csr_credits_who_made_the_attempts(calls):
    rows = {row["csr"]: row for row in _dashboard().per_csr().rows}

    assert rows["Carla Reyes"]["attempts"] == 3 and rows["Carla Reyes"]["calls"] == 2
    assert rows["Carla Reyes"]["reach_rate"] == Decimal("33.3")
    assert rows["Carla Reyes"]["satisfaction"] == 5.0 and rows["Carla Reyes"]["reviews"] == 1
    assert rows["Dana Obi"]["callbacks"] == 1


def test_weekly_trend_has_every_week_of_the_range(calls):
    table = _dashboard().weekly()

    assert len(table.rows) in (53, 54)
    assert sum(row["due"] for row in table.rows) == 4
    assert sum(row["made"] for row in table.rows) == 3


def test_the_same_figures_come_from_the_rollup_once_the_week_is_rolled_up(calls):
    live = {table.slug: table.rows for table in _dashboard().tables()}

    assert refresh() > 0
    dashboard = _dashboard()
    assert dashboard._rolled()[0], "last week comes from the rollup"
    assert {table.slug: table.rows for table in dashboard.tables()} == live
    assert dashboard.summary().extra["satisfaction"] == 3.5


def test_an_empty_range_shows_dashes_not_errors(calls):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    summary = _dashboard(start=tomorrow, end=tomorrow).summary()

    assert summary.extra["reach_rate"] is None and summary.extra["made_rate"] is None
    assert all(row["n"] == 0 for row in summary.rows)


def test_page_answers_managers_only_with_constant_queries(client_for, manager, csr, calls, django_assert_num_queries):
    client = client_for(manager)
    client.get(reverse("dashboards:follow_ups"))
    # 4 for every page, the filter's technicians, and 3 for the five tables (the rolled-up weeks, every figure in one
    # statement, the CSRs' names)
    with django_assert_num_queries(8) as few:
        response = client.get(reverse("dashboards:follow_ups"))
    assert "Reach rate" in response.content.decode()
    for _ in range(5):
        FollowUpCallFactory(due_at=timezone.now() - timedelta(days=3), state=State.DONE, attempts=1,
                            outcome=Outcome.REACHED, satisfaction=4)
    with django_assert_num_queries(len(few)):
        client.get(reverse("dashboards:follow_ups"))

    assert client_for(csr).get(reverse("dashboards:follow_ups")).status_code == 403


def test_each_table_exports_as_csv(client_for, manager, calls):
    response = client_for(manager).get(reverse("dashboards:follow_ups"), {"format": "csv", "table": "per_csr"})

    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("CSR,Calls worked")
    assert "Carla Reyes" in body
