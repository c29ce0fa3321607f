"""The reports only this app can give, each on a hand-built data set with a known answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from recommendations.models import Discussion, Recommendation, Risk
from tests.factories import JobFactory, SiteFactory, TechnicianFactory

from .factories import DiscussionFactory, RecommendationFactory, completed_visit

pytestmark = pytest.mark.django_db
State = Recommendation.State


def _aged(days, **kwargs):
    return RecommendationFactory(created_at=timezone.now() - timedelta(days=days), **kwargs)


def test_visits_since_raised_counts_later_completed_visits_at_the_site_only():
    site = SiteFactory()
    raising = completed_visit(site, days_ago=100)
    recommendation = _aged(100, site=site, raised_on_job=raising)
    completed_visit(site, days_ago=120)  # before it was raised
    completed_visit(site, days_ago=60)
    completed_visit(site, days_ago=20)
    JobFactory(site=site)  # scheduled, not yet a visit
    completed_visit(SiteFactory(), days_ago=10)  # another site

    annotated = Recommendation.objects.with_visits_since_raised().get(pk=recommendation.pk)

    assert annotated.visits_since_raised == 2


def test_never_discussed_since_raised_finds_the_seed_001_failure():
    site = SiteFactory()
    forgotten = _aged(200, site=site, what="forgotten")
    mentioned = _aged(200, site=site, what="mentioned")
    only_excused = _aged(200, site=site, what="only excused")
    _aged(200, site=site, what="closed", state=State.WITHDRAWN)
    _aged(5, site=site, what="too new for a later visit")
    completed_visit(site, days_ago=150)
    later = completed_visit(site, days_ago=90)
    DiscussionFactory(recommendation=mentioned, job=later)
    DiscussionFactory(recommendation=only_excused, job=later, response=Discussion.Response.NOT_DISCUSSED,
                      note="Customer in a hurry")

    found = Recommendation.objects.never_discussed_since_raised()

    assert {r.what: r.visits_since_raised for r in found} == {"forgotten": 2, "only excused": 2}
    assert forgotten in found


def test_a_discussion_on_the_raising_visit_is_not_a_later_mention():
    site = SiteFactory()
    raising = completed_visit(site, days_ago=100)
    recommendation = _aged(101, site=site, raised_on_job=raising)
    DiscussionFactory(recommendation=recommendation, job=raising)
    completed_visit(site, days_ago=30)

    assert list(Recommendation.objects.never_discussed_since_raised()) == [recommendation]


def test_failed_while_open():
    failed = RecommendationFactory(state=State.FAILED_WHILE_OPEN)
    RecommendationFactory()
    RecommendationFactory(state=State.DONE_BY_OTHERS)

    assert list(Recommendation.objects.failed_while_open()) == [failed]


def test_conversion_by_risk_and_by_technician():
    alice, bob = TechnicianFactory(username="alice"), TechnicianFactory(username="bob")
    accepted = {"state": State.ACCEPTED, "accepted_job": JobFactory()}
    RecommendationFactory(raised_by=alice, risk=Risk.FAILURE_LIKELY, **accepted)
    RecommendationFactory(raised_by=alice, risk=Risk.FAILURE_LIKELY, state=State.FAILED_WHILE_OPEN)
    RecommendationFactory(raised_by=alice, risk=Risk.ADVISORY)
    RecommendationFactory(raised_by=bob, risk=Risk.ADVISORY, **accepted)
    RecommendationFactory(raised_by=bob, risk=Risk.ADVISORY, state=State.DECLINED, decline_reason="No")
    RecommendationFactory(raised_by=bob, risk=Risk.ADVISORY, state=State.WITHDRAWN)  # a mistake: not counted

    by_risk = {row["risk"]: (row["raised"], row["accepted"], row["failed"])
               for row in Recommendation.objects.conversion_by_risk()}
    by_technician = {row["raised_by__username"]: (row["raised"], row["accepted"], row["failed"])
                     for row in Recommendation.objects.conversion_by_technician()}

    assert by_risk == {"failure_likely": (2, 1, 1), "advisory": (3, 1, 0)}
    assert by_technician == {"alice": (3, 1, 1), "bob": (2, 1, 0)}


def test_age_of_open_recommendations_in_buckets():
    today = timezone.localdate()
    for days in (1, 10, 45, 100, 400):
        _aged(days)
    _aged(45, state=State.DEFERRED, deferred_until=today + timedelta(days=10))
    _aged(500, state=State.DONE_BY_OTHERS)

    age = Recommendation.objects.age_of_open(today)

    assert (age["total"], age["under_30_days"], age["30_to_90_days"], age["90_to_180_days"],
            age["over_180_days"]) == (6, 2, 2, 1, 1)
    assert (timezone.now() - age["oldest"]).days == 400


def test_overdue_and_owed_by(technician, sales):
    today = timezone.localdate()
    late = RecommendationFactory(owner=sales, next_follow_up_on=today - timedelta(days=3))
    later = RecommendationFactory(owner=sales, next_follow_up_on=today - timedelta(days=1))
    due = RecommendationFactory(owner=sales, next_follow_up_on=today + timedelta(days=5))
    RecommendationFactory(owner=sales, state=State.WITHDRAWN, next_follow_up_on=today - timedelta(days=9))
    RecommendationFactory(owner=technician, next_follow_up_on=today - timedelta(days=9))

    assert list(Recommendation.objects.owed_by(sales)) == [late, later, due]
    assert set(Recommendation.objects.overdue(today).filter(owner=sales)) == {late, later}
