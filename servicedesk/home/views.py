"""The Today page: a cross-app room (it reads jobs, callbacks, follow-up calls and recommendations)."""

from datetime import timedelta

from django.shortcuts import redirect, render
from django.utils import timezone

from callbacks.follow_ups.selectors import calls_due
from callbacks.queues import office_queues, open_callbacks
from customers.models import Job
from recommendations.selectors import with_open_recommendation_counts
from servicedesk import roles
from servicedesk.models import WorkerHeartbeat


@roles.role_required(*roles.ALL_ROLES)
def home(request):
    """Each role's start page: the technician's day, the office's day across the company."""
    user = request.user
    if roles.has_role(user, roles.SALES) and not roles.has_role(user, roles.CSR, roles.MANAGER, roles.TECHNICIAN):
        return redirect("customers:list")
    today = timezone.localdate()
    context = {"today": today}
    if roles.has_role(user, roles.TECHNICIAN) and not roles.is_office(user):
        context["my_jobs"] = with_open_recommendation_counts(
            Job.objects.assigned_to(user).on_day(today).with_related().order_by("scheduled_start")
        )
        context["upcoming_jobs"] = (
            Job.objects.assigned_to(user)
            .after_day(today)
            .filter(status=Job.Status.SCHEDULED)
            .with_related()
            .order_by("scheduled_start")[:5]
        )
    if roles.is_office(user):
        todays = Job.objects.on_day(today)
        context["todays_jobs"] = todays.with_related().order_by("scheduled_start", "pk")[:50]
        context["open_callbacks"] = open_callbacks()
        # The CSR's queues and today's job counts in one query; the due calls, most overdue first.
        context["queues"], context["todays_counts"] = office_queues(
            scheduled=todays.filter(status=Job.Status.SCHEDULED),
            completed=Job.objects.completed_on(today),
        )
        context["calls_due"] = calls_due()
        context["now"] = timezone.now()
    if roles.has_role(user, roles.MANAGER):
        heartbeat = WorkerHeartbeat.objects.filter(name="worker").first()
        context["heartbeat"] = heartbeat
        context["worker_stale"] = heartbeat is None or heartbeat.last_seen < timezone.now() - timedelta(minutes=5)
    return render(request, "home.html", context)
