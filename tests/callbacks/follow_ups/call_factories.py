from datetime import timedelta

import factory
from django.utils import timezone

from callbacks.follow_ups.models import FollowUpCall
from tests.callbacks.factories import CompletedJobFactory


class FollowUpCallFactory(factory.django.DjangoModelFactory):
    """A follow-up call as the scheduling sweep leaves it: due since an hour ago, nobody on it."""

    class Meta:
        model = FollowUpCall

    job = factory.SubFactory(CompletedJobFactory)
    customer = factory.LazyAttribute(lambda call: call.job.customer)
    due_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    next_attempt_at = factory.LazyAttribute(lambda call: call.due_at)
