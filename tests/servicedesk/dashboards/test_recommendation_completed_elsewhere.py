"""Issue 19, point 1: the recommendation dashboard counts the visits completed outside servicedesk (the dispatch
system, by the API, a webhook or an import) while an open recommendation at the site was left undiscussed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recommendations.models import Discussion, Recommendation
from tests.factories import JobFactory, SiteFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


def _visit(site, *, elsewhere=True, days_ago=3):
    start = timezone.now() - timedelta(days=days_ago)
    return JobFactory(site=site, scheduled_start=start, completed=True, completed_elsewhere=elsewhere)


def test_visits_completed_elsewhere_with_an_open_recommendation_undiscussed_are_counted(client_for, manager):
    raised = timezone.now() - timedelta(days=20)
    counted = SiteFactory()
    RecommendationFactory(site=counted, created_at=raised)
    _visit(counted)
    # Accepted since the visit: it was open then, and still went undiscussed.
    accepted_later = SiteFactory()
    job = _visit(accepted_later)
    RecommendationFactory(site=accepted_later, created_at=raised, state=Recommendation.State.ACCEPTED,
                          accepted_job=job, state_changed_at=timezone.now())
    _visit(accepted_later, days_ago=2)  # open then too: accepted only today
    discussed = SiteFactory()
    talked_about = RecommendationFactory(site=discussed, created_at=raised)
    job = _visit(discussed)
    Discussion.objects.create(recommendation=talked_about, job=job, technician=job.lead_technician,
                              response=Discussion.Response.NOT_NOW)
    on_the_page = SiteFactory()
    RecommendationFactory(site=on_the_page, created_at=raised)
    _visit(on_the_page, elsewhere=False)
    raised_after = SiteFactory()
    _visit(raised_after)
    RecommendationFactory(site=raised_after)
    before = SiteFactory()
    RecommendationFactory(site=before, created_at=timezone.now() - timedelta(days=500))
    _visit(before, days_ago=400)  # before the range

    response = client_for(manager).get(reverse("dashboards:recommendations"))

    figure = response.context["dashboard"].completed_elsewhere
    assert figure == {"visits": 3, "all": 5}
    assert "Visits completed outside servicedesk with open recommendations undiscussed" in response.content.decode()
