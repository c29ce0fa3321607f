"""Callback.job_* and revisit_*: the facts of a callback's job and revisit job kept on the callback (migration 0009),
read by the dashboards instead of the jobs. They must equal the jobs whoever writes either table."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback
from customers.models import Job
from servicedesk import demo
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
COPIES = ["job_completed_at", "job_kind", "job_lead_id", "job_status", "revisit_lead_id", "revisit_no_charge"]
LIVE = ["job__completed_at", "job__kind", "job__lead_technician", "job__status", "revisit_job__lead_technician",
        "revisit_job__no_charge"]


def _mismatches():
    """(pk, kept, live) for every callback whose copies differ from its jobs."""
    rows = Callback.objects.order_by("pk").values_list("pk", *COPIES, *LIVE)
    return [(pk, values[:len(COPIES)], values[len(COPIES):]) for pk, *values in rows
            if tuple(values[:len(COPIES)]) != tuple(values[len(COPIES):])]


def _facts(callback):
    return dict(Callback.objects.filter(pk=callback.pk).values(*COPIES).get())


def _log(job, csr):
    return services.callback_log(job=job, problem="No heat.", channel="phone", urgency="normal", logged_by=csr,
                                 now=NOW)


def test_a_callback_logged_through_the_service_has_its_jobs_facts(csr, technician):
    job = CompletedJobFactory(lead_technician=technician, kind=Job.Kind.INSTALL)

    callback = _log(job, csr)

    assert _facts(callback) == {
        "job_completed_at": job.completed_at, "job_kind": Job.Kind.INSTALL, "job_lead_id": technician.pk,
        "job_status": Job.Status.COMPLETED, "revisit_lead_id": None, "revisit_no_charge": None,
    }
    assert _mismatches() == []


def test_a_job_without_lead_or_completion_is_copied_as_null(csr):
    callback = CallbackFactory(job=CompletedJobFactory(lead_technician=None, status=Job.Status.SCHEDULED,
                                                       completed_at=None))

    facts = _facts(callback)
    assert (facts["job_lead_id"], facts["job_completed_at"]) == (None, None)
    assert _mismatches() == []


def test_the_revisit_scheduled_resolved_and_reopened_through_the_services(csr, manager):
    callback = services.callback_acknowledge(callback=_log(CompletedJobFactory(), csr), by=csr, now=NOW)
    fixer = TechnicianFactory()

    callback = services.callback_schedule_revisit(callback=callback, by=csr, technician=fixer,
                                                  start=NOW + timedelta(hours=3), no_charge=False, now=NOW)
    assert (_facts(callback)["revisit_lead_id"], _facts(callback)["revisit_no_charge"]) == (fixer.pk, False)

    # Resolving completes the revisit job (an update of the job, not of the callback).
    callback = services.callback_resolve(callback=callback, by=csr, root_cause=Callback.RootCause.WORKMANSHIP,
                                         now=NOW + timedelta(hours=4))
    assert Job.objects.get(pk=callback.revisit_job_id).status == Job.Status.COMPLETED
    assert _mismatches() == []

    callback = services.callback_reopen(callback=callback, by=manager, reason="Still cold.",
                                        now=NOW + timedelta(hours=5))
    assert (_facts(callback)["revisit_lead_id"], _facts(callback)["revisit_no_charge"]) == (None, None)
    assert _mismatches() == []


def test_changes_to_a_job_reach_the_callbacks_on_it_as_job_and_as_revisit(csr):
    job, revisit = CompletedJobFactory(), CompletedJobFactory(kind=Job.Kind.CALLBACK_REVISIT, no_charge=True)
    first, second = CallbackFactory(job=job, revisit_job=revisit), CallbackFactory(job=job)
    other = CallbackFactory(job=revisit)
    untouched = CallbackFactory()
    before = _facts(untouched)
    lead, fixer = TechnicianFactory(), TechnicianFactory()

    # Through save(), one field at a time ...
    job.completed_at = NOW - timedelta(days=3)
    job.save(update_fields=["completed_at"])
    job.kind = Job.Kind.MAINTENANCE
    job.lead_technician = lead
    job.save()
    revisit.no_charge = False
    revisit.lead_technician = fixer
    revisit.save(update_fields=["no_charge", "lead_technician"])
    assert _facts(first)["revisit_no_charge"] is False
    assert _facts(first)["revisit_lead_id"] == fixer.pk
    assert _facts(second)["job_lead_id"] == lead.pk
    assert _mismatches() == []

    # ... and in bulk, by queryset update.
    Job.objects.filter(pk__in=[job.pk, revisit.pk]).update(status=Job.Status.CANCELLED, lead_technician=None)
    assert {_facts(callback)["job_status"] for callback in (first, second, other)} == {Job.Status.CANCELLED}
    assert _facts(first)["revisit_lead_id"] is None
    assert _facts(untouched) == before
    assert _mismatches() == []


def test_a_callback_moved_to_another_job_or_saved_whole_takes_the_jobs_facts(technician):
    callback = CallbackFactory()
    other = CompletedJobFactory(lead_technician=technician, kind=Job.Kind.SERVICE_CALL)

    Callback.objects.filter(pk=callback.pk).update(job=other)
    assert _facts(callback)["job_lead_id"] == technician.pk

    # An instance loaded before a change to its job and saved whole writes stale copies: the trigger corrects them.
    stale = Callback.objects.get(pk=callback.pk)
    Job.objects.filter(pk=other.pk).update(kind=Job.Kind.INSTALL)
    stale.problem = "Noisy."
    stale.save()
    assert _facts(callback)["job_kind"] == Job.Kind.INSTALL
    assert _mismatches() == []


@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "bulk_create"])
def test_the_demo_callbacks_have_their_jobs_facts(use_copy):
    plan = demo.Plan(jobs=400, customers=60, technicians=4, csrs=1, managers=1, sales=1, days_back=90)
    demo.seed(plan=plan, log=lambda text: None, use_copy=use_copy)

    assert Callback.objects.exists()
    assert Callback.objects.filter(revisit_job__isnull=False).exists()
    assert Callback.objects.filter(job_lead_id__isnull=False).exists()
    assert _mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_a_job_changed_while_a_callback_is_logged_on_it_ends_copied(postgres, csr):
    """The job's update commits after the callback's insert has started: the insert waits for it (the trigger
    reads the job FOR SHARE) and copies the new values rather than the ones it would have seen."""
    job = CompletedJobFactory()
    lead = TechnicianFactory()
    updated, go = threading.Event(), threading.Event()

    def update_job():
        try:
            with transaction.atomic():
                Job.objects.filter(pk=job.pk).update(lead_technician=lead)
                updated.set()
                go.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=update_job)
    writer.start()
    assert updated.wait(10)
    logger = threading.Thread(target=lambda: (CallbackFactory(job=job), connection.close()))
    logger.start()
    logger.join(0.5)
    go.set()
    writer.join(10)
    logger.join(10)

    assert Callback.objects.get(job=job).job_lead_id == lead.pk
    assert _mismatches() == []
