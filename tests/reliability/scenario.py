"""Something due for every beat sweep at once, and a measure of everything the sweeps write.

`everything_due()` builds the rows and returns, per task of the beat schedule, what one run must change in
`measure()`; a sweep that runs twice, ten times at once or from two processes must change exactly that.
"""

import importlib
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from callbacks.models import Callback, Classification, FollowUpCall
from callbacks.recalls.models import CallbackPause, WarrantyClaim
from customers.models import Customer, ReviewRequest, ReviewRequestSettings
from customers.reviews import send_review_requests
from recommendations.models import CustomerReminder, Recommendation, Risk
from recommendations.services import recommendation_count_later_visits
from servicedesk import roles
from servicedesk.dashboards.callback_rollup import refresh as refresh_callback_rollup
from servicedesk.dashboards.follow_up_rollup import refresh as refresh_follow_up_rollup
from servicedesk.dashboards.rollup import refresh as refresh_rollup
from servicedesk.integrations.intake.models import InboxEvent
from servicedesk.integrations.models import Integration
from servicedesk.models import CallbackRollup, FollowUpRollup, JobRollup, Notification, WorkerHeartbeat
from servicedesk.texting.consent import text_consent_set
from servicedesk.texting.models import Conversation, TextConsent, TextMessage, TextSurvey
from servicedesk.webhooks.models import Attempt, Delivery, Event, Subscription
from tests.callbacks.factories import CallbackFactory, targets_around_the_clock
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.callbacks.follow_ups.test_calls_concurrency import _completed_jobs
from tests.factories import CustomerFactory, JobFactory, SiteFactory, TechnicianFactory, UserFactory
from tests.recommendations.factories import RecommendationFactory

Kind = Notification.Kind


def task(path):
    """The Celery task named in the beat schedule, the project's app's own (calling it runs it here, as a worker
    would): not the shared task's proxy, which looks the task up in whichever app is current in the calling thread."""
    from servicedesk.celery import app

    importlib.import_module(path.rsplit(".", 1)[0])
    return app.tasks[path]


def measure(outbox=None):
    """Everything a sweep may write, counted. `outbox` is a list of sent messages (default: Django's mail.outbox)."""
    notifications = Counter(Notification.objects.values_list("kind", flat=True))
    return {
        "follow-up calls": FollowUpCall.objects.count(),
        "claimed calls": FollowUpCall.objects.filter(state=FollowUpCall.State.CLAIMED).count(),
        **{f"{kind} notifications": notifications[kind] for kind in Kind.values},
        "customer reminders": CustomerReminder.objects.count(),
        "e-mailed customer reminders": CustomerReminder.objects.exclude(emailed_at=None).count(),
        "heartbeats": WorkerHeartbeat.objects.count(),
        "job rollup rows": JobRollup.objects.count(),
        "follow-up rollup rows": FollowUpRollup.objects.count(),
        "callback rollup rows": CallbackRollup.objects.count(),
        "later visits counted": Recommendation.objects.aggregate(n=Sum("later_visits"))["n"] or 0,
        "review requests": ReviewRequest.objects.count(),
        "asked review requests": ReviewRequest.objects.filter(skipped="").count(),
        "e-mailed review requests": ReviewRequest.objects.exclude(emailed_at=None).count(),
        "e-mails": len(mail.outbox if outbox is None else outbox),
        "processed webhook events": InboxEvent.objects.filter(state=InboxEvent.State.PROCESSED).count(),
        "webhook attempts": Attempt.objects.count(),
        "texts": TextMessage.objects.count(),
        "held texts": TextMessage.objects.filter(status=TextMessage.Status.HELD).count(),
        "text surveys": TextSurvey.objects.count(),
        "escalated text conversations": Conversation.objects.exclude(escalation=Conversation.Escalation.NONE).count(),
        "callbacks on hold": Callback.objects.filter(paused_since__isnull=False).count(),
    }


def everything_due():
    """Rows that make every sweep of the beat schedule do something; returns {task: changes one run makes}."""
    now = timezone.now()
    managers = [UserFactory(role=roles.MANAGER) for _ in range(2)]
    csr = UserFactory(role=roles.CSR)
    sales = UserFactory(role=roles.SALES)

    _completed_jobs(5)  # service calls done three days ago: their follow-up calls are due
    for _ in range(4):  # a CSR closed the tab: the lease lapsed
        FollowUpCallFactory(state="claimed", claimed_by=csr, claimed_until=now - timedelta(seconds=1))
    targets_around_the_clock()  # the workers read them: "twice overdue" in real hours, whenever the suite runs
    for _ in range(3):  # overdue by more than their 24-hour promise again: reminded, and escalated
        logged = now - timedelta(hours=24 + 30)
        CallbackFactory(logged_by=csr, assigned_to=csr, logged_at=logged,
                        first_contact_due_at=logged + timedelta(hours=24), due_at=logged + timedelta(hours=24))
    RecommendationFactory.create_batch(3, owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=30))
    for _ in range(2):  # customers who asked for reminder e-mails, two recommendations each
        site = SiteFactory(customer=CustomerFactory(reminders_opt_in=True))
        RecommendationFactory.create_batch(2, site=site, risk=Risk.FAILURE_LIKELY,
                                           created_at=now - timedelta(days=20))
    tomorrow_morning = (timezone.localtime(now) + timedelta(days=1)).replace(hour=9, minute=0, second=0)
    for _ in range(2):  # technicians with a visit tomorrow
        JobFactory(lead_technician=TechnicianFactory(), scheduled_start=tomorrow_morning)
    # Raised ten days ago, visited since, never discussed: the count of later visits finds the visit.
    visited = RecommendationFactory(created_at=now - timedelta(days=10))
    JobFactory(site=visited.site, customer=visited.customer, completed=True, kind="estimate",
               scheduled_start=now - timedelta(days=2))
    # A complete past week for the rollup (an estimate: it has no follow-up call to confuse the count above).
    # A follow-up call made two weeks ago: the follow-up rollup's one row.
    FollowUpCallFactory(due_at=now - timedelta(days=15), state="done", attempts=1, outcome="reached", satisfaction=5,
                        completed_by=csr, completed_at=now - timedelta(days=15))
    estimate = JobFactory(completed=True, kind="estimate", scheduled_start=now - timedelta(days=15))
    # A callback on it, settled (contacted, fixed, confirmed): the callback rollup's rows for that week.
    logged = estimate.completed_at + timedelta(days=1)
    CallbackFactory(job=estimate, logged_at=logged, acknowledged_at=logged + timedelta(hours=1), state="closed",
                    root_cause="workmanship", resolved_at=logged + timedelta(days=1),
                    closed_at=logged + timedelta(days=2))
    # A reminder e-mail to a customer that the mail server refused half an hour ago: still to send.
    reminded = RecommendationFactory(site=SiteFactory(customer=CustomerFactory(reminders_opt_in=True)))
    CustomerReminder.objects.create(recommendation=reminded, customer=reminded.customer, number=1,
                                    sent_at=now - timedelta(minutes=30))
    # Every visit completed in the last two weeks (the ones above) has its review request due; two customers with
    # one visit each, booked before, are asked; the five service calls' customer once (the rest in the cooldown).
    ReviewRequestSettings.objects.create(pk=1, review_url="https://example.com/review")
    # An escalation made while the mail server was down: in the inbox, its e-mail still to send.
    Notification.objects.create(recipient=managers[0], kind=Kind.ESCALATION, text="Callback overdue twice",
                                key="scenario:unsent", created_at=now - timedelta(minutes=30))
    # An outbox row whose message was lost (Redis restarted): due since a minute ago. Its URL is refused at send
    # (a loopback address), so the attempt is recorded without any network.
    subscription = Subscription.objects.create(
        integration=Integration.objects.create(name="Dispatch board", created_by=managers[0]), label="Board",
        url="https://127.0.0.1/hooks", event_types=["callback.logged"], secret="whsec_c2VjcmV0", created_by=managers[0])
    Delivery.objects.create(
        event=Event.objects.create(type="callback.logged", occurred_at=now, body="{}"), subscription=subscription,
        next_attempt_at=now - timedelta(minutes=1), retry_from=now - timedelta(minutes=1))

    # A webhook event stored two minutes ago whose task never ran (the broker was down): the sweep processes it.
    integration = Integration.objects.create(name="Dispatch", created_by=managers[0])
    InboxEvent.objects.create(integration=integration, event_id="msg_1", kind="customer.created",
                              received_at=now - timedelta(minutes=2), occurred_at=now - timedelta(minutes=2),
                              body='{"type": "customer.created", "data": {"external_id": "C-9", "name": "Ada"}}')

    # Texts. A customer who prefers texts and agreed to them, whose follow-up call fell due: the post-visit question
    # goes instead of the call. A text held for quiet hours whose morning has come. A reply nobody answered in time.
    texter = CustomerFactory(preferred_contact=Customer.ContactMethod.TEXT)
    text_consent_set(customer=texter, mobile="+13125550142", granted=True, source=TextConsent.Source.PHONE, by=csr)
    FollowUpCallFactory(job=JobFactory(customer=texter, site=SiteFactory(customer=texter), completed=True,
                                       scheduled_start=now - timedelta(days=3)))
    conversation = Conversation.objects.create(
        phone="+13125550142", customer=texter, owner=csr, awaiting_since=now - timedelta(hours=1),
        last_inbound_at=now - timedelta(hours=1), csrs_due_at=now - timedelta(minutes=45),
        managers_due_at=now + timedelta(hours=1))
    TextMessage.objects.create(conversation=conversation, direction=TextMessage.Direction.OUT, body="On our way",
                               status=TextMessage.Status.HELD, send_after=now - timedelta(minutes=5), sent_by=csr)

    # Callbacks not due for days (so the overdue sweeps leave them alone): a potential callback whose revisit was
    # done longer ago than it may stay unclassified; a faulty part's warranty claim still unsent after four days;
    # a callback on hold waiting on parts expected yesterday.
    def quiet_callback(**fields):
        return CallbackFactory(**{
            "logged_by": csr, "assigned_to": csr, "state": "revisit_done", "acknowledged_at": now - timedelta(days=3),
            "first_contact_due_at": now - timedelta(days=3), "revisit_due_at": now + timedelta(days=5),
            "due_at": now + timedelta(days=5), "next_update_due_at": now + timedelta(days=5), **fields})

    quiet_callback(classification=Classification.POTENTIAL,
                   revisit_done_at=now - timedelta(days=settings.CALLBACK_CLASSIFY_DAYS, hours=1))
    WarrantyClaim.objects.create(callback=quiet_callback(), part_name="Igniter", supplier="Ferguson",
                                 created_at=now - timedelta(days=4))
    on_hold = quiet_callback(state="acknowledged", paused_since=now - timedelta(days=2))
    CallbackPause.objects.create(callback=on_hold, reason=CallbackPause.Reason.PARTS, note="Blower motor ordered",
                                 expected_on=timezone.localdate(now) - timedelta(days=1), started_by=csr,
                                 started_at=now - timedelta(days=2))

    asked = _after_one_run(send_review_requests, "asked review requests")
    return {
        "servicedesk.tasks.record_heartbeat": {"heartbeats": 1},
        "callbacks.tasks.schedule_follow_up_calls": {"follow-up calls": 5},
        "callbacks.tasks.release_abandoned_claims": {"claimed calls": -4},
        # Several items for one person in one run: one e-mail (a digest) per person, never one each.
        "callbacks.tasks.remind_callback_owners": {"reminder notifications": 3, "e-mails": 1},
        "callbacks.tasks.escalate_twice_overdue_callbacks": {"escalation notifications": 3 * len(managers),
                                                             "e-mails": len(managers)},
        # The recommendation sweeps write the digest itself: one notification per person per run.
        "recommendations.tasks.remind_follow_ups_due": {"reminder notifications": 1, "e-mails": 1},
        "recommendations.tasks.escalate_stale_leads": {"escalation notifications": len(managers),
                                                       "e-mails": len(managers)},
        "customers.tasks.send_review_requests": {
            "review requests": _after_one_run(send_review_requests, "review requests"),
            "asked review requests": asked, "e-mailed review requests": asked, "e-mails": asked},
        "recommendations.tasks.send_recommendation_reminders": {"customer reminders": 4,
                                                                "e-mailed customer reminders": 4, "e-mails": 2},
        "recommendations.tasks.resend_unsent_reminder_emails": {"e-mailed customer reminders": 1, "e-mails": 1},
        "callbacks.tasks.send_briefing_digests": {"briefing notifications": 2, "e-mails": 2},
        "servicedesk.dashboards.rollup.refresh_dashboard_rollup": {
            "job rollup rows": _after_one_run(refresh_rollup, "job rollup rows")},
        "servicedesk.dashboards.follow_up_rollup.refresh_follow_up_rollup": {
            "follow-up rollup rows": _after_one_run(refresh_follow_up_rollup, "follow-up rollup rows")},
        "servicedesk.dashboards.callback_rollup.refresh_callback_rollup": {
            "callback rollup rows": _after_one_run(refresh_callback_rollup, "callback rollup rows")},
        "recommendations.tasks.count_later_visits": {
            "later visits counted": _after_one_run(recommendation_count_later_visits, "later visits counted")},
        "servicedesk.tasks.resend_unsent_emails": {"e-mails": 1},
        "servicedesk.integrations.intake.tasks.sweep_inbox": {"processed webhook events": 1},
        # Attempted once, failed, due again in 30 seconds: the second run finds nothing due.
        "servicedesk.webhooks.tasks.sweep_webhook_deliveries": {"webhook attempts": 1},
        # The held text is handed to the worker (its sending is the task's, after commit); the reply goes to every
        # CSR (the managers' turn is an hour away); the question is texted once (and the call held two days).
        "servicedesk.texting.tasks.send_due_texts": {"held texts": -1},
        # (The notifications are written after commit, one per active CSR.)
        "servicedesk.texting.tasks.escalate_unanswered_texts": {
            "escalated text conversations": 1,
            "assignment notifications": User.objects.filter(groups__name=roles.CSR, is_active=True).count()},
        "servicedesk.texting.tasks.send_post_visit_texts": {"text surveys": 1, "texts": 1},
        # The owner is reminded (the managers only after twice as long), with one e-mail.
        "callbacks.tasks.remind_unclassified_callbacks": {"reminder notifications": 1, "e-mails": 1},
        "callbacks.tasks.remind_warranty_claims": {"reminder notifications": 1, "e-mails": 1},
        "callbacks.tasks.resume_due_pauses": {"callbacks on hold": -1},
    }


class _Undo(Exception):
    pass


def _after_one_run(run, what):
    """measure()[what] after one run of `run` on the rows above (run once, then undone)."""
    try:
        with transaction.atomic():
            run()
            value = measure()[what]
            raise _Undo
    except _Undo:
        return value


def changed(before, after):
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}
