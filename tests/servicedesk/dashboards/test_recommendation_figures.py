"""The recommendation dashboard's figures on a hand-built data set."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Min, Q
from django.utils import timezone

from recommendations.models import Discussion, Recommendation, Risk
from servicedesk.dashboards.filters import DashboardFilterForm, Scope
from servicedesk.dashboards.recommendations import RecommendationDashboard
from tests.factories import EquipmentFactory, JobFactory
from tests.recommendations.factories import DiscussionFactory, RecommendationFactory, completed_visit

pytestmark = pytest.mark.django_db
State = Recommendation.State


def _dashboard(**filters):
    form = DashboardFilterForm(filters)
    assert form.is_valid(), form.errors
    return RecommendationDashboard(form.scope())


def _accepted(**kwargs):
    return RecommendationFactory(state=State.ACCEPTED, accepted_job=JobFactory(), **kwargs)


@pytest.fixture
def raised(alice, bob):
    ago = timezone.now() - timedelta(days=200)
    forgotten = RecommendationFactory(raised_by=bob, risk=Risk.ADVISORY, created_at=ago,
                                      next_follow_up_on=timezone.localdate() - timedelta(days=100))
    completed_visit(forgotten.site, days_ago=50)  # a later visit where it was never raised
    return {
        "accepted": _accepted(raised_by=alice, risk=Risk.FAILURE_LIKELY, price_low=1000, price_high=2000),
        "failed": RecommendationFactory(raised_by=alice, risk=Risk.FAILURE_LIKELY, state=State.FAILED_WHILE_OPEN,
                                        price_high=900),
        "open": RecommendationFactory(raised_by=alice, risk=Risk.ADVISORY),
        "withdrawn": RecommendationFactory(raised_by=alice, state=State.WITHDRAWN),
        "bob_accepted": _accepted(raised_by=bob, risk=Risk.ADVISORY, price_low=100, price_high=200),
        "declined": RecommendationFactory(raised_by=bob, risk=Risk.ADVISORY, state=State.DECLINED,
                                          decline_reason="Too dear"),
        "forgotten": forgotten,
        "last_year": _accepted(raised_by=alice, risk=Risk.ADVISORY, created_at=timezone.now() - timedelta(days=400)),
    }


def test_funnel_of_recommendations_raised_in_the_range_with_value_accepted(raised):
    table = _dashboard().funnel()

    assert {row["stage"]: row["n"] for row in table.rows} == {
        "Raised": 6, "Still open (incl. deferred)": 2, "Accepted": 2, "Declined": 1, "Failed while open": 1,
        "Done by someone else": 0,
    }
    assert table.extra == {"value_low": Decimal("1100.00"), "value_high": Decimal("2200.00"), "accepted": 2}


def test_conversion_by_risk_and_by_technician(raised):
    by_risk = {row["label"]: row for row in _dashboard().by_risk().rows}
    by_technician = {row["label"]: row for row in _dashboard().by_technician().rows}

    assert [label for label in by_risk] == ["Failure likely soon", "Advisory"]
    likely = by_risk["Failure likely soon"]
    assert (likely["raised"], likely["accepted"], likely["conversion"], likely["failed"]) == (2, 1, Decimal("50.0"), 1)
    assert likely["value_high"] == Decimal("2000.00")
    assert by_risk["Advisory"]["conversion"] == Decimal("25.0")  # 1 of 4 (open, bob's two, the forgotten one)
    assert {label: (row["raised"], row["conversion"]) for label, row in by_technician.items()} == {
        "Alice Ames": (3, Decimal("33.3")), "Bob Byrne": (3, Decimal("33.3")),
    }


def test_age_of_open_never_discussed_and_stale_leads(raised):
    dashboard = _dashboard()

    ages = {row["age"]: row["n"] for row in dashboard.age_of_open().rows}
    assert ages == {"Under 30 days": 1, "30–90 days": 0, "90–180 days": 0, "Over 180 days": 1}
    assert dashboard.age_of_open().extra["total"] == 2
    never = dashboard.never_discussed().rows
    assert [(row["owner"], row["n"], row["most_visits"]) for row in never] == [("Bob Byrne", 1, 1)]
    stale = dashboard.stale_leads().rows
    assert [(row["owner"], row["n"], row["oldest_due"]) for row in stale] == [
        ("Bob Byrne", 1, timezone.localdate() - timedelta(days=100))
    ]


def test_a_discussion_on_a_later_visit_takes_it_off_the_never_discussed_list(raised):
    forgotten = raised["forgotten"]
    DiscussionFactory(recommendation=forgotten, job=forgotten.site.jobs.get())

    assert _dashboard().never_discussed().rows == []


def test_failures_while_open_in_the_range(raised):
    rows = _dashboard().failures().rows

    assert [(row["risk"], row["n"], row["value_high"]) for row in rows] == [
        ("Failure likely soon", 1, Decimal("900.00"))
    ]


def test_each_failure_lists_its_equipment_date_raised_visits_since_and_how_many_discussed_it(alice):
    raised_at = timezone.now() - timedelta(days=120)
    equipment = EquipmentFactory(kind="water_heater", make="Rheem", model_number="")
    raising = completed_visit(equipment.site, days_ago=120)
    heater = RecommendationFactory(site=equipment.site, equipment=equipment, raised_by=alice, raised_on_job=raising,
                                   created_at=raised_at, what="Replace the leaking water heater")
    visits = [completed_visit(heater.site, days_ago=days) for days in (90, 60, 30)]
    DiscussionFactory(recommendation=heater, job=visits[0], response=Discussion.Response.NOT_NOW)
    DiscussionFactory(recommendation=heater, job=visits[1], response=Discussion.Response.NOT_DISCUSSED,
                      note="Customer was out")
    heater.state, heater.state_changed_at = State.FAILED_WHILE_OPEN, timezone.now() - timedelta(days=10)
    heater.save()
    completed_visit(heater.site, days_ago=5)  # after the failure: not a visit it could have been raised on
    RecommendationFactory(raised_by=alice, state=State.FAILED_WHILE_OPEN, what="Add a surge protector",
                          created_at=timezone.now() - timedelta(days=20))

    rows = _dashboard().failure_list().rows

    assert [(row["equipment"], row["what"], row["raised"], row["visits"], row["discussed"]) for row in rows] == [
        ("(no equipment named)", "Add a surge protector", timezone.localdate() - timedelta(days=20), 0, 0),
        ("Water heater Rheem", "Replace the leaking water heater", timezone.localtime(raised_at).date(), 3, 1),
    ]
    assert rows[1]["equipment_url"] == heater.get_absolute_url()


def test_technician_filter_means_who_raised_it(raised, bob):
    assert {row["stage"]: row["n"] for row in _dashboard(technician=bob.pk).funnel().rows}["Raised"] == 3


def test_nothing_raised_shows_dashes(db):
    dashboard = RecommendationDashboard(Scope(start=timezone.now() - timedelta(days=1), end=timezone.now()))

    funnel = dashboard.funnel()
    assert [cells[2][1] for cells in funnel.cells] == ["—"] * 6
    assert funnel.extra["value_low"] is None
    assert dashboard.by_risk().rows == []


@pytest.mark.parametrize("filters", [{}, {"kind": "service_call"}, {"site_type": "residential"}])
def test_age_and_stale_leads_from_one_pass_equal_the_live_definitions(alice, bob, filters):
    """Each bucket's edges (exactly 30, 90 and 180 days before today's midnight), a follow-up due today (not
    overdue) and yesterday (overdue), some passed to sales, deferred ones, and answered ones that do not count."""
    midnight = timezone.make_aware(timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time()))
    today = timezone.localdate()
    for days in (0, 29, 30, 31, 89, 90, 91, 179, 180, 181, 900):
        for owner, due_in, sales in ((alice, -1, False), (bob, 0, True), (alice, -30, True)):
            RecommendationFactory(owner=owner, created_at=midnight - timedelta(days=days),
                                  next_follow_up_on=today + timedelta(days=due_in),
                                  passed_to_sales_at=timezone.now() if sales else None)
    RecommendationFactory(owner=bob, state=State.DEFERRED, deferred_until=today + timedelta(days=5),
                          next_follow_up_on=today - timedelta(days=3))
    RecommendationFactory(owner=bob, state=State.DECLINED, decline_reason="No", next_follow_up_on=today - timedelta(3))
    dashboard = _dashboard(**filters)
    live = dashboard._filtered(Recommendation.objects.all())

    figures = live.age_of_open(today=today)
    table = dashboard.age_of_open()
    assert [row["n"] for row in table.rows] == [figures[name] for name in
                                                ("under_30_days", "30_to_90_days", "90_to_180_days", "over_180_days")]
    assert table.extra == {"total": figures["total"], "oldest": figures["oldest"]}
    overdue = {
        row["owner"]: (row["n"], row["with_sales"], row["oldest_due"])
        for row in live.overdue(today=today).values("owner").annotate(
            n=Count("pk"), with_sales=Count("pk", filter=Q(passed_to_sales_at__isnull=False)),
            oldest_due=Min("next_follow_up_on"))
    }
    names = {alice.pk: "Alice Ames", bob.pk: "Bob Byrne"}
    assert {row["owner"]: (row["n"], row["with_sales"], row["oldest_due"]) for row in dashboard.stale_leads().rows} \
        == {names[owner]: figures for owner, figures in overdue.items()}
    if not filters:
        assert table.extra["total"] == 34 and overdue[bob.pk][0] == 1
