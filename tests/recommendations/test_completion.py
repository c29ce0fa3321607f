"""Completing a job: each open recommendation at the site must have been raised with the customer on it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Job
from customers.services import job_complete
from recommendations import services
from recommendations.models import Recommendation, Risk
from tests.factories import JobFactory

from .factories import DiscussionFactory, RecommendationFactory

pytestmark = pytest.mark.django_db
Answer = services.DiscussionInput


@pytest.fixture
def job(technician):
    return JobFactory(lead_technician=technician)


def test_a_job_with_an_undiscussed_open_recommendation_cannot_be_completed(job, technician):
    RecommendationFactory(site=job.site, what="Replace the sump pump")

    with pytest.raises(ValidationError) as error:
        job_complete(job=job, completed_by=technician, summary="Annual maintenance")

    assert "Replace the sump pump" in str(error.value)
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED and job.completed_at is None


def test_not_discussed_without_a_reason_is_refused_and_nothing_is_kept(job, technician):
    recommendation = RecommendationFactory(site=job.site)

    with pytest.raises(ValidationError):
        job_complete(
            job=job, completed_by=technician, summary="Done",
            discussions=[Answer(recommendation, "not_discussed", "")],
            new_recommendations=[{"what": "Insulate pipes", "risk": Risk.ADVISORY}],
        )

    assert Job.objects.get().status == Job.Status.SCHEDULED
    assert not recommendation.discussions.exists()
    assert Recommendation.objects.count() == 1


def test_not_discussed_with_a_reason_lets_the_job_complete(job, technician):
    recommendation = RecommendationFactory(site=job.site)

    job_complete(
        job=job, completed_by=technician, summary="Done",
        discussions=[Answer(recommendation, "not_discussed", "Only the tenant was home")],
    )

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.completed_at is not None and job.summary == "Done"
    assert recommendation.discussions.get().note == "Only the tenant was home"


def test_discussed_earlier_on_the_visit_counts(job, technician):
    recommendation = RecommendationFactory(site=job.site)
    DiscussionFactory(recommendation=recommendation, job=job, technician=technician)

    job_complete(job=job, completed_by=technician, summary="Done")

    assert Job.objects.get().is_completed


def test_a_discussion_on_an_earlier_visit_does_not_count(job, technician):
    recommendation = RecommendationFactory(site=job.site)
    DiscussionFactory(recommendation=recommendation)  # another job at the site

    with pytest.raises(ValidationError):
        job_complete(job=job, completed_by=technician, summary="Done")


def test_closed_recommendations_and_other_sites_do_not_block(job, technician):
    RecommendationFactory(site=job.site, state=Recommendation.State.WITHDRAWN)
    RecommendationFactory()

    job_complete(job=job, completed_by=technician, summary="Done")

    assert Job.objects.get(pk=job.pk).is_completed


def test_a_deferred_recommendation_must_still_be_raised(job, technician):
    RecommendationFactory(site=job.site, state=Recommendation.State.DEFERRED,
                          deferred_until=timezone.localdate() + timedelta(days=90))

    with pytest.raises(ValidationError):
        job_complete(job=job, completed_by=technician, summary="Done")


def test_new_recommendations_are_raised_on_the_job_and_signed_for(job, technician):
    raised_earlier_today = RecommendationFactory(site=job.site, raised_on_job=job)

    job_complete(
        job=job, completed_by=technician, summary="Replaced igniter",
        new_recommendations=[{"what": "Replace the flue liner", "risk": Risk.FAILURE_LIKELY, "why": "Rusted"}],
        customer_acknowledged=True,
    )

    new = Recommendation.objects.get(what="Replace the flue liner")
    assert (new.raised_on_job, new.raised_by, new.site, new.customer_acknowledged) == (
        job, technician, job.site, True,
    )
    # Raised on this very visit, so it needs no separate discussion, and the signature covers it too.
    assert Recommendation.objects.get(pk=raised_earlier_today.pk).customer_acknowledged


def test_a_completed_or_cancelled_job_is_not_completed_again(technician):
    for status in (Job.Status.CANCELLED, Job.Status.COMPLETED):
        extra = {"completed_at": timezone.now()} if status == Job.Status.COMPLETED else {}
        job = JobFactory(lead_technician=technician, status=status, **extra)
        with pytest.raises(ValidationError):
            job_complete(job=job, completed_by=technician, summary="Again")


def test_a_summary_is_required(job, technician):
    with pytest.raises(ValidationError):
        job_complete(job=job, completed_by=technician, summary="  ")
