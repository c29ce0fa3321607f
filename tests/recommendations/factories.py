from datetime import timedelta

import factory
from django.utils import timezone

from recommendations.models import Discussion, Recommendation, RecommendationEvent, Risk
from tests.factories import JobFactory, SiteFactory, TechnicianFactory


class RecommendationFactory(factory.django.DjangoModelFactory):
    """An open recommendation as recommendation_raise would leave it (without its "raised" event)."""

    class Meta:
        model = Recommendation

    site = factory.SubFactory(SiteFactory)
    customer = factory.LazyAttribute(lambda r: r.site.customer)
    raised_by = factory.SubFactory(TechnicianFactory)
    owner = factory.LazyAttribute(lambda r: r.raised_by)
    what = factory.Sequence(lambda n: f"Replace worn part number {n}")
    why = "Showing signs of failure."
    risk = Risk.SHOULD_BE_DONE
    next_follow_up_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class RecommendationEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecommendationEvent

    recommendation = factory.SubFactory(RecommendationFactory)
    action = RecommendationEvent.Action.RAISED
    by = factory.LazyAttribute(lambda e: e.recommendation.raised_by)
    to_state = Recommendation.State.OPEN


class DiscussionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discussion
        skip_postgeneration_save = True

    recommendation = factory.SubFactory(RecommendationFactory)
    job = factory.SubFactory(JobFactory, site=factory.SelfAttribute("..recommendation.site"))
    technician = factory.LazyAttribute(lambda d: d.job.lead_technician if d.job else d.recommendation.owner)
    response = Discussion.Response.INTERESTED

    @factory.post_generation
    def keep_state(discussion, create, extracted, **kwargs):
        """What recommendation_record_discussion keeps on the recommendation (discussed on a later visit)."""
        recommendation = discussion.recommendation
        if create and discussion.job_id is not None and discussion.job_id != recommendation.raised_on_job_id and (
            discussion.response != Discussion.Response.NOT_DISCUSSED
        ):
            Recommendation.objects.filter(pk=recommendation.pk).update(discussed_on_later_visit=True)
            recommendation.discussed_on_later_visit = True


def completed_visit(site, *, days_ago, technician=None, **kwargs):
    """A past visit at the site, completed `days_ago` days ago."""
    start = timezone.now() - timedelta(days=days_ago)
    extra = {"lead_technician": technician} if technician else {}
    return JobFactory(
        site=site,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        status="completed",
        completed_at=start + timedelta(hours=1),
        **extra,
        **kwargs,
    )
