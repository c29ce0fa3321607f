"""Issue 17, point 10: the no-charge revisit's own trail — booked by whoever scheduled it, completed by whoever
resolved the callback — on the job, like any other job's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from callbacks import services
from customers.models import Job, JobEvent
from servicedesk.audit import Via
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db
Status = Job.Status


def test_a_revisit_booked_and_closed_with_its_callback_leaves_a_trail_on_the_revisit_job(csr):
    now = timezone.now()
    fixer = TechnicianFactory()
    callback = services.callback_log(job=CompletedJobFactory(), problem="No heat.", channel="phone",
                                     urgency="normal", logged_by=csr, now=now)
    callback = services.callback_acknowledge(callback=callback, by=csr, now=now)
    callback = services.callback_schedule_revisit(callback=callback, by=csr, technician=fixer,
                                                  start=now + timedelta(hours=3), now=now)

    services.callback_resolve(callback=callback, by=fixer, root_cause="communication", now=now + timedelta(hours=4))

    trail = list(JobEvent.objects.filter(job=callback.revisit_job).order_by("pk").values_list(
        "action", "from_status", "to_status", "by", "via", "note"))
    assert trail == [
        ("booked", "", Status.SCHEDULED, csr.pk, Via.PAGE, ""),
        ("completed", Status.SCHEDULED, Status.COMPLETED, fixer.pk, Via.PAGE, f"Callback #{callback.pk} resolved."),
    ]
