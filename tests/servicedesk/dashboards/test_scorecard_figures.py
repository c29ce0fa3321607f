"""A technician's scorecard on a hand-built data set."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from callbacks.models import TrainingItem
from recommendations.models import Discussion, Recommendation
from servicedesk.dashboards.filters import RangeForm
from servicedesk.dashboards.scorecard import Scorecard, TeamList
from tests.factories import JobFactory
from tests.recommendations.factories import DiscussionFactory, RecommendationFactory, completed_visit

from .data import RootCause, callback, completed_job, revisit

pytestmark = pytest.mark.django_db


def _period():
    return RangeForm({}).period()


@pytest.fixture
def team(alice, bob, carol):
    mine = callback(completed_job(alice), root_cause=RootCause.WORKMANSHIP)
    completed_job(alice)
    completed_job(alice, days_ago=50)
    callback(completed_job(alice, days_ago=50), root_cause=RootCause.UNRELATED)  # not counted
    completed_job(bob)
    completed_job(bob)
    carols = callback(completed_job(carol), root_cause=RootCause.MISDIAGNOSIS)
    carols.revisit_job = revisit(carols, alice)  # alice fixed carol's callback
    carols.save()
    today = timezone.localdate()
    TrainingItem.objects.create(technician=alice, callback=mine, root_cause=RootCause.WORKMANSHIP,
                                what_happened="Loose flue", due_on=today - timedelta(days=3))
    # A second lesson from the same callback is for another cause: one training item per callback and cause.
    TrainingItem.objects.create(technician=alice, callback=mine, root_cause=RootCause.MISDIAGNOSIS,
                                what_happened="Torque", due_on=today - timedelta(days=20), done_on=today)
    raising = completed_job(alice, days_ago=60)
    discussed = RecommendationFactory(raised_by=alice, site=raising.site, raised_on_job=raising,
                                      state=Recommendation.State.ACCEPTED, accepted_job=JobFactory())
    later = completed_visit(raising.site, days_ago=20, technician=alice)
    DiscussionFactory(recommendation=discussed, job=later)
    on_raising_visit = RecommendationFactory(raised_by=alice, site=raising.site, raised_on_job=raising)
    DiscussionFactory(recommendation=on_raising_visit, job=raising)  # the raising visit is not a later one
    DiscussionFactory(recommendation=on_raising_visit, job=later, response=Discussion.Response.NOT_DISCUSSED,
                      note="Customer not home")
    return mine


def test_callback_rate_against_the_team_with_fixes_credited_apart(team, alice):
    rows = Scorecard(alice, *_period()).callback_rate().rows

    # Alice: 6 jobs completed (4 plus the raising visit and the later visit), 1 came back; the unrelated problem
    # does not count. Team: 9 jobs (alice 6, bob 2, carol 1), 2 came back (alice's and carol's).
    assert (rows[0]["jobs"], rows[0]["came_back"], rows[0]["rate"], rows[0]["fixed"]) == (6, 1, Decimal("16.7"), 1)
    assert (rows[1]["jobs"], rows[1]["came_back"], rows[1]["rate"]) == (9, 2, Decimal("22.2"))


def test_root_causes_of_their_callbacks_only(team, alice, carol):
    assert [(row["cause"], row["callbacks"]) for row in Scorecard(alice, *_period()).root_causes().rows] == [
        ("Workmanship", 1)
    ]
    assert [row["cause"] for row in Scorecard(carol, *_period()).root_causes().rows] == ["Misdiagnosis"]


def test_training_items_open_and_done(team, alice, bob):
    figures = {row["what"]: row["n"] for row in Scorecard(alice, *_period()).training().rows}

    assert figures == {"Open": 1, "Open and past their date": 1, "Done (all time)": 1, "Done in the range": 1}
    assert {row["n"] for row in Scorecard(bob, *_period()).training().rows} == {0}


def test_recommendations_raised_discussed_on_later_visits_and_converted(team, alice):
    figures = {row["what"]: (row["n"], row["share"]) for row in Scorecard(alice, *_period()).recommendations().rows}

    assert figures["Raised"] == (2, None)
    assert figures["Discussed again on a later visit"] == (1, Decimal("50.0"))
    assert figures["Converted (accepted)"] == (1, Decimal("50.0"))
    assert figures["Open recommendations they raised with customers on their visits"][0] == 2
    assert figures["… and marked “not discussed” (with a reason)"][0] == 1


def test_a_technician_with_no_callbacks_has_a_zero_rate_and_no_root_causes(team, bob):
    scorecard = Scorecard(bob, *_period())

    assert scorecard.callback_rate().rows[0]["rate"] == Decimal("0.0")
    assert scorecard.root_causes().rows == []


def test_team_list_has_every_technician_even_without_jobs(team, alice, bob, carol, dave):
    rows = {row["name"]: row for row in TeamList(*_period()).team().rows}

    assert {"Alice Ames", "Bob Byrne", "Carol Cho", "Dave Diaz"} <= set(rows)
    assert (rows["Alice Ames"]["rate"], rows["Alice Ames"]["fixed"], rows["Alice Ames"]["training_open"]) == (
        Decimal("16.7"), 1, 1)
    assert rows["Alice Ames"]["conversion"] == Decimal("50.0")
    assert rows["Carol Cho"]["rate"] == Decimal("100.0")
    assert rows["Dave Diaz"]["rate"] is None and rows["Dave Diaz"]["jobs"] == 0
    assert rows["Dave Diaz"]["name_url"].endswith(f"/dashboards/technicians/{dave.pk}/")
