from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat
from .notifications import resend_unsent_emails as _resend_unsent_emails


@shared_task
def record_heartbeat(name="worker"):
    # update_or_create on a unique name: two beats at once still leave one row.
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})


@shared_task
def resend_unsent_emails():
    return _resend_unsent_emails()
