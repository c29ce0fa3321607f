"""Redis outage: with the broker down, technicians still complete their visits (page and service save, nothing
raised to them); once Redis is back, beat's next runs of the sweep give every completed job its follow-up call.

Nothing in a request enqueues a task (the follow-up calls are derived from the jobs by the sweep, DESIGN.md
principle 1), so the database is the only thing a page needs; this test proves it with the broker really down."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from callbacks.models import FollowUpCall, FollowUpRule
from customers.models import Job
from customers.services import job_complete
from tests.factories import JobFactory, TechnicianFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

JOBS = 20
SWEEP_SECONDS = 1


def test_visits_completed_while_redis_is_down_all_get_their_follow_up_call_once_it_is_back(
    own_redis, workers, client, tmp_path
):
    # A call the moment the job is done, and beat running the sweep every second (as a manager could set it).
    FollowUpRule.objects.update_or_create(job_kind=Job.Kind.SERVICE_CALL,
                                         defaults={"days_after": 0, "updated_at": timezone.now()})
    PeriodicTask.objects.update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="schedule follow-up calls",
        defaults={"task": "callbacks.tasks.schedule_follow_up_calls", "interval": every, "crontab": None,
                  "enabled": True},
    )
    technician = TechnicianFactory()
    jobs = JobFactory.create_batch(JOBS, lead_technician=technician, scheduled_start=timezone.now())
    workers.start("-B", "--pool", "solo", "-s", str(tmp_path / "beat-schedule"))
    assert wait_for(lambda: "ready" in workers.logs(), timeout=30), workers.logs()

    own_redis.stop()
    client.force_login(technician)
    for job in jobs[: JOBS // 2]:  # on the completion page
        response = client.post(reverse("recommendations:complete_job", args=[job.pk]), {
            "summary": "Replaced the igniter; ran two full cycles.", "new-TOTAL_FORMS": "0",
            "new-INITIAL_FORMS": "0", "new-MIN_NUM_FORMS": "0", "new-MAX_NUM_FORMS": "1000",
        })
        assert response.status_code == 302
    for job in jobs[JOBS // 2:]:  # through the service, as the other entry points do
        job_complete(job=job, completed_by=technician, summary="Cleaned the drain line.")
    time.sleep(3 * SWEEP_SECONDS)  # beat keeps trying to send the sweep into a broker that is not there

    assert Job.objects.filter(status=Job.Status.COMPLETED).count() == JOBS
    assert FollowUpCall.objects.count() == 0  # nothing could run the sweep

    own_redis.start()
    back = time.monotonic()
    assert wait_for(lambda: FollowUpCall.objects.count() == JOBS, timeout=45), workers.logs()
    recovered_in = time.monotonic() - back
    time.sleep(2 * SWEEP_SECONDS)
    assert FollowUpCall.objects.count() == JOBS
    assert set(FollowUpCall.objects.values_list("job_id", flat=True)) == {job.pk for job in jobs}
    print(f"{JOBS} visits completed with Redis down; all {JOBS} follow-up calls {recovered_in:.1f} s after it was back")
