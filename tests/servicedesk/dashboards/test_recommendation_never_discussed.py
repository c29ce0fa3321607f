"""The dashboard's "visits since raised, never discussed" from the kept state equals the live definition."""

from datetime import timedelta

import pytest
from django.db.models import Count, Exists, Max, Min
from django.utils import timezone

from recommendations.models import Discussion, LaterVisitsCount, Recommendation, mentioned_on_a_later_visit
from recommendations.services import recommendation_count_later_visits, recommendation_record_discussion
from servicedesk.dashboards.filters import DashboardFilterForm
from servicedesk.dashboards.recommendations import RecommendationDashboard
from tests.factories import SiteFactory
from tests.recommendations.factories import DiscussionFactory, RecommendationFactory, completed_visit

pytestmark = pytest.mark.django_db
State = Recommendation.State


def _aged(days, **kwargs):
    return RecommendationFactory(created_at=timezone.now() - timedelta(days=days), **kwargs)


def _day(days_ago):
    return timezone.localtime(timezone.now() - timedelta(days=days_ago)).date()


def _fast(**filters):
    form = DashboardFilterForm(filters)
    assert form.is_valid(), form.errors
    rows = RecommendationDashboard(form.scope()).never_discussed().rows
    return [(row["owner"], row["n"], row["most_visits"], row["oldest"]) for row in rows]


def _live():
    results = (
        Recommendation.objects.never_discussed_since_raised()
        .values("owner__first_name", "owner__last_name")
        .annotate(n=Count("pk"), most_visits=Max("visits_since_raised"), oldest=Min("created_at"))
        .order_by("-n", "owner__first_name")
    )
    return [(f"{row['owner__first_name']} {row['owner__last_name']}", row["n"], row["most_visits"],
             timezone.localtime(row["oldest"]).date()) for row in results]


@pytest.fixture
def sites(alice, bob):
    """Two sites with forgotten, mentioned, excused and closed recommendations and visits before and after."""
    first, second = SiteFactory(), SiteFactory()
    raising = completed_visit(first, days_ago=300)
    recommendations = {
        "raised on a visit": _aged(300, site=first, raised_on_job=raising, raised_by=alice),
        "forgotten": _aged(200, site=first, raised_by=alice),
        "mentioned": _aged(200, site=first, raised_by=bob),
        "excused": _aged(150, site=first, raised_by=bob),
        "closed": _aged(200, site=first, raised_by=bob, state=State.WITHDRAWN),
        "deferred": _aged(120, site=second, raised_by=bob, state=State.DEFERRED,
                          deferred_until=timezone.localdate() + timedelta(days=9)),
        "no visit since": _aged(10, site=second, raised_by=alice),
    }
    completed_visit(first, days_ago=250)
    later = completed_visit(first, days_ago=100)
    completed_visit(second, days_ago=60)
    DiscussionFactory(recommendation=recommendations["raised on a visit"], job=raising)  # not a later visit
    DiscussionFactory(recommendation=recommendations["mentioned"], job=later)
    DiscussionFactory(recommendation=recommendations["excused"], job=later,
                      response=Discussion.Response.NOT_DISCUSSED, note="Customer in a hurry")
    return {"first": first, "second": second, "later": later, **recommendations}


def test_with_no_count_yet_every_visit_is_counted_live(sites):
    assert not LaterVisitsCount.objects.exists()
    assert _fast() == _live() == [
        ("Alice Ames", 2, 2, _day(300)),
        ("Bob Byrne", 2, 1, _day(150)),
    ]


def test_after_the_count_the_stored_figures_equal_the_live_ones(sites):
    assert recommendation_count_later_visits() == 4
    assert Recommendation.objects.get(pk=sites["forgotten"].pk).later_visits == 1

    assert _fast() == _live()
    assert recommendation_count_later_visits() == 0  # nothing changed: nothing written


def test_visits_discussions_and_new_recommendations_after_the_count_show_at_once(sites, alice, bob):
    recommendation_count_later_visits()
    visit = completed_visit(sites["first"], days_ago=0)  # completed after the count
    DiscussionFactory(recommendation=sites["forgotten"], job=visit)
    newer = RecommendationFactory(site=sites["second"], raised_by=bob)
    completed_visit(sites["second"], days_ago=0)
    completed_visit(sites["second"], days_ago=0)
    sites["deferred"].state = State.DECLINED
    sites["deferred"].decline_reason = "Too dear"
    sites["deferred"].save()

    assert _fast() == _live()
    assert ("Bob Byrne", 2, 2, _day(150)) in _fast()
    assert newer.pk in Recommendation.objects.never_discussed_since_raised().values_list("pk", flat=True)


def test_a_visit_back_dated_before_the_count_shows_from_the_next_count(sites):
    recommendation_count_later_visits()
    completed_visit(sites["second"], days_ago=1)  # e.g. yesterday's job imported this morning

    recommendation_count_later_visits()

    assert _fast() == _live()
    assert Recommendation.objects.get(pk=sites["no visit since"].pk).later_visits == 1


def test_a_full_count_picks_up_visits_back_dated_further(sites):
    recommendation_count_later_visits()
    completed_visit(sites["second"], days_ago=30)

    recommendation_count_later_visits(days=None)

    assert _fast() == _live()


def test_filters_apply_to_the_kept_state_as_to_the_live_list(sites, alice):
    recommendation_count_later_visits()
    completed_visit(sites["first"], days_ago=0)

    assert _fast(technician=alice.pk) == [row for row in _live() if row[0] == "Alice Ames"]


def test_recording_a_discussion_on_a_later_visit_keeps_the_state(sites):
    forgotten, raised = sites["forgotten"], sites["raised on a visit"]
    technician = sites["later"].lead_technician

    recommendation_record_discussion(recommendation=forgotten, technician=technician, job=sites["later"],
                                     response=Discussion.Response.NOT_DISCUSSED, note="No time")
    recommendation_record_discussion(recommendation=raised, technician=technician, job=raised.raised_on_job,
                                     response=Discussion.Response.INTERESTED)
    recommendation_record_discussion(recommendation=forgotten, technician=technician,
                                     response=Discussion.Response.INTERESTED)  # by phone, not on a visit
    assert not Recommendation.objects.filter(pk__in=[forgotten.pk, raised.pk], discussed_on_later_visit=True)

    recommendation_record_discussion(recommendation=forgotten, technician=technician, job=sites["later"],
                                     response=Discussion.Response.NOT_NOW)

    assert Recommendation.objects.get(pk=forgotten.pk).discussed_on_later_visit
    assert _fast() == _live()


def test_the_kept_state_equals_its_definition(sites):
    """Every recommendation's flag is what the discussions say (the migration and the demo write it in bulk)."""
    derived = set(Recommendation.objects.filter(Exists(mentioned_on_a_later_visit())).values_list("pk", flat=True))
    assert set(Recommendation.objects.filter(discussed_on_later_visit=True).values_list("pk", flat=True)) == derived
    assert derived == {sites["mentioned"].pk}


def test_the_dashboard_query_count_does_not_grow_with_rows(sites, alice, django_assert_num_queries):
    recommendation_count_later_visits()
    for _ in range(5):
        completed_visit(SiteFactory(), days_ago=0)
        _aged(90, raised_by=alice)
    dashboard = RecommendationDashboard(DashboardFilterForm({}).scope())

    # never_discussed: the stamp, the counted rows, the live rows; the three raised-in-range tables share one; each
    # failure while open with its visits since raised, one.
    with django_assert_num_queries(8):
        for slug in dashboard.TABLES:
            getattr(dashboard, slug)()
