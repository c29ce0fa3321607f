from datetime import timedelta

import factory
from django.utils import timezone

from callbacks.models import DEFAULT_TARGETS, Callback, UrgencyTarget
from customers.models import Job
from tests.factories import EquipmentFactory, JobFactory, UserFactory


class CompletedJobFactory(JobFactory):
    """An original job: done yesterday, on a piece of equipment."""

    equipment = factory.SubFactory(EquipmentFactory)
    site = factory.LazyAttribute(lambda job: job.equipment.site)
    scheduled_start = factory.LazyFunction(
        lambda: timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    )
    status = Job.Status.COMPLETED
    completed_at = factory.LazyAttribute(lambda job: job.scheduled_end)


class CallbackFactory(factory.django.DjangoModelFactory):
    """A callback as callback_log leaves it (state new, targets of a normal urgency); use the services to move it."""

    class Meta:
        model = Callback

    job = factory.SubFactory(CompletedJobFactory)
    customer = factory.LazyAttribute(lambda cb: cb.job.customer)
    site = factory.LazyAttribute(lambda cb: cb.job.site)
    equipment = factory.LazyAttribute(lambda cb: cb.job.equipment)
    problem = "The furnace is blowing cold air again."
    logged_by = factory.SubFactory(UserFactory)
    assigned_to = factory.LazyAttribute(lambda cb: cb.logged_by)
    logged_at = factory.LazyFunction(timezone.now)
    first_contact_due_at = factory.LazyAttribute(lambda cb: cb.logged_at + timedelta(hours=24))
    revisit_due_at = factory.LazyAttribute(lambda cb: cb.logged_at + timedelta(hours=72))
    due_at = factory.LazyAttribute(lambda cb: cb.first_contact_due_at)


def targets_around_the_clock():
    """Every urgency's target counted around the clock, as a manager may set them, written whole: for a test whose
    worker process (which does not see the suite's defaults, tests/conftest.py) reads the targets after a
    transactional test emptied them."""
    for urgency, (first_contact_within, revisit_within) in DEFAULT_TARGETS.items():
        UrgencyTarget.objects.update_or_create(urgency=urgency, defaults={
            "first_contact_within": first_contact_within, "revisit_within": revisit_within, "business_hours": False})


def targets_in_business_hours(*urgencies):
    """The given urgencies' targets counted in business hours, as a manager sets them on the targets page."""
    UrgencyTarget.objects.filter(urgency__in=urgencies).update(business_hours=True)
