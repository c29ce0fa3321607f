"""Hand-built data sets for the dashboard tests: every figure they show is worked out in the test by hand."""

from datetime import timedelta

from django.utils import timezone

from callbacks.models import Callback
from customers.models import Job, Site
from servicedesk.dashboards.filters import Scope, _midnight
from servicedesk.dashboards.rollup import monday
from tests.callbacks.factories import CallbackFactory
from tests.factories import EquipmentFactory, JobFactory, SiteFactory

RootCause = Callback.RootCause
State = Callback.State


def completed_job(technician, *, days_ago=30, kind=Job.Kind.SERVICE_CALL, site_type=Site.SiteType.RESIDENTIAL,
                  helpers=(), **kwargs):
    end = timezone.now() - timedelta(days=days_ago)
    site = SiteFactory(site_type=site_type)
    job = JobFactory(
        site=site,
        equipment=EquipmentFactory(site=site),
        kind=kind,
        lead_technician=technician,
        scheduled_start=end - timedelta(hours=2),
        scheduled_end=end,
        status=Job.Status.COMPLETED,
        completed_at=end,
        **kwargs,
    )
    if helpers:
        job.helpers.set(helpers)
    return job


def revisit(callback, technician, *, no_charge=True):
    job = callback.job
    end = callback.logged_at + timedelta(days=1)
    return JobFactory(
        site=job.site, customer=job.customer, equipment=job.equipment, kind=Job.Kind.CALLBACK_REVISIT,
        lead_technician=technician, scheduled_start=end - timedelta(hours=1), scheduled_end=end,
        status=Job.Status.COMPLETED, completed_at=end, no_charge=no_charge,
    )


def callback(job, *, root_cause="", state=None, days_after=2, **kwargs):
    """A callback logged `days_after` the job; resolved (or closed) when given a root cause and no state."""
    logged_at = job.completed_at + timedelta(days=days_after)
    if state is None:
        state = State.RESOLVED if root_cause else State.NEW
    extra = {}
    if state in (State.RESOLVED, State.CLOSED):
        extra["resolved_at"] = logged_at + timedelta(days=1)
    if state == State.CLOSED:
        extra["closed_at"] = logged_at + timedelta(days=2)
    return CallbackFactory(job=job, root_cause=root_cause, state=state, logged_at=logged_at, **{**extra, **kwargs})


def ranges_and_filters(technician):
    """The ranges and filters a rolled-up figure must agree with the live count on."""
    today = timezone.localdate()
    year = Scope(start=_midnight(today - timedelta(days=365)), end=_midnight(today + timedelta(days=1)))
    # Starts on a Wednesday and ends on a Thursday: partial weeks at both ends.
    wednesday = monday(today) - timedelta(weeks=8) + timedelta(days=2)
    mid_week = Scope(start=_midnight(wednesday), end=_midnight(wednesday + timedelta(days=36)))
    return [
        year,
        mid_week,
        Scope(start=year.start, end=year.end, kind=Job.Kind.INSTALL),
        Scope(start=year.start, end=year.end, site_type=Site.SiteType.RESIDENTIAL),
        Scope(start=year.start, end=year.end, kind=Job.Kind.SERVICE_CALL, site_type=Site.SiteType.RESIDENTIAL),
        Scope(start=year.start, end=year.end, technician=technician),
    ]
