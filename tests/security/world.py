"""One small company shared by the security tests: every kind of object a URL can point at, on a job of
"technician" and not of "other_technician", so each role's answer can be checked against one table."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone

from callbacks import services as callback_services
from callbacks.models import Callback, TrainingItem, Urgency, WarrantyClaim
from customers import services as customer_services
from customers.models import Customer, Equipment, Job, Site
from customers.reports.models import ReportImport
from recommendations import services as recommendation_services
from recommendations.models import Recommendation, Risk
from servicedesk import roles
from servicedesk.integrations.intake.models import InboxEvent
from servicedesk.integrations.intake.services import webhook_secret_set
from servicedesk.integrations.models import Integration
from servicedesk.integrations.services import api_token_issue
from servicedesk.models import Notification
from servicedesk.texting.consent import text_consent_set
from servicedesk.texting.models import Conversation, TextConsent, TextTemplate
from servicedesk.tokens import make_feedback_token, make_unsubscribe_token
from servicedesk.webhooks.models import Delivery, Event, Subscription
from servicedesk.webhooks.services import new_secret
from tests.callbacks.factories import CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import JobFactory, TechnicianFactory, UserFactory

ROLES = ("anonymous", "csr", "technician", "other_technician", "manager", "sales", "norole")


@dataclass
class World:
    users: dict
    customer: Customer
    original_job: Job  # done yesterday by "technician"; the callback is about it
    job: Job  # today's visit of "technician" at the same site
    other_job: Job  # "other_technician"'s own visit, at another customer
    callback: Callback
    training_item: TrainingItem
    recommendation: Recommendation
    call: object
    notification: Notification
    decision: object
    feedback_token: str
    unsubscribe_token: str
    integration: Integration
    api_token: object
    inbox_event: object
    report_import: object  # a jobs report imported last week
    conversation: object
    text_template: object
    claim: object
    webhook_subscription: object = None
    webhook_delivery: object = None



def build_world():
    users = {
        "csr": UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR),
        "technician": TechnicianFactory(username="technician", first_name="Tom", last_name="Alvarez"),
        "other_technician": TechnicianFactory(username="other_technician", first_name="Olga", last_name="Ng"),
        "manager": UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER,
                               is_staff=True),
        "sales": UserFactory(username="sales", first_name="Sam", last_name="Park", role=roles.SALES),
        "norole": UserFactory(username="norole"),
    }
    tech, csr = users["technician"], users["csr"]
    original = CompletedJobFactory(lead_technician=tech)
    customer = original.customer
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    job = JobFactory(site=original.site, equipment=original.equipment, lead_technician=tech, scheduled_start=start)
    other_job = JobFactory(lead_technician=users["other_technician"], scheduled_start=start)
    callback = callback_services.callback_log(
        job=original, problem="The furnace is blowing cold air again.", channel=Callback.Channel.PHONE,
        urgency=Urgency.NORMAL, logged_by=csr,
    )
    training_item = TrainingItem.objects.create(
        technician=tech, callback=callback, root_cause=Callback.RootCause.WORKMANSHIP,
        what_happened="Flame sensor left dirty.", due_on=timezone.localdate() + timedelta(days=14),
    )
    recommendation = recommendation_services.recommendation_raise(
        site=original.site, raised_by=tech, what="Replace the cracked heat exchanger", why="Carbon monoxide risk.",
        risk=Risk.FAILURE_LIKELY, equipment=original.equipment, job=job,
    )
    recommendation.photo.save("heat-exchanger.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    call = FollowUpCallFactory(job=original, customer=customer)
    notification = Notification.objects.create(
        recipient=tech, text="Callback revisit for you", url=callback.get_absolute_url()
    )
    decision = customer_services.do_not_service_propose(
        customer=customer, by=csr, reasons="Threatened the technician.", attempts=[
            {"attempted_on": timezone.localdate(), "channel": "phone", "what_happened": "Manager called; hung up."},
            {"attempted_on": timezone.localdate(), "channel": "letter", "what_happened": "Wrote to offer a meeting."},
        ],
    )
    claim = WarrantyClaim.objects.create(callback=callback, part_name="Flame sensor", supplier="Johnstone")
    # The dispatch system's ids, by which the API addresses them.
    Customer.objects.filter(pk=customer.pk).update(external_id="C-1")
    Site.objects.filter(pk=job.site_id).update(external_id="S-1")
    Equipment.objects.filter(pk=job.equipment_id).update(external_id="E-1")
    Job.objects.filter(pk=job.pk).update(external_id="J-1")
    integration = Integration.objects.create(name="Dispatch", created_by=users["manager"])
    api_token, _ = api_token_issue(integration=integration, label="sync", scope="read_write", by=users["manager"])
    webhook_secret_set(integration=integration, by=users["manager"])
    inbox_event = InboxEvent.objects.create(
        integration=integration, event_id="msg_1", kind="job.completed", received_at=timezone.now(),
        occurred_at=timezone.now(), body="{}", state=InboxEvent.State.FAILED, result="The event has no data object.")
    report_import = ReportImport.objects.create(
        file_name="jobs-report.csv", stored_name="", status=ReportImport.Status.IMPORTED, rows=2, rows_checked=2,
        rows_written=2, by=users["manager"], created_at=timezone.now() - timedelta(days=7),
        finished_at=timezone.now() - timedelta(days=7))
    subscription = Subscription.objects.create(
        integration=integration, label="Board", url="https://hooks.example.com/in", event_types=[],
        secret=new_secret(), created_by=users["manager"])  # no events: what the world does posts nothing
    event = Event.objects.create(type="callback.logged", occurred_at=timezone.now(), body="{}")
    delivery = Delivery.objects.create(event=event, subscription=subscription, next_attempt_at=event.occurred_at,
                                       retry_from=event.occurred_at, delivered_at=event.occurred_at)
    text_consent_set(customer=customer, mobile="+13125550199", granted=True, source=TextConsent.Source.PHONE, by=csr)
    conversation = Conversation.objects.create(phone="+13125550199", customer=customer, owner=csr)
    text_template = TextTemplate.objects.create(name="On our way", body="Hi {first_name}, we are on the way.")
    return World(
        users={**users, "anonymous": None}, customer=customer, original_job=original, job=job, other_job=other_job,
        callback=callback, training_item=training_item, recommendation=recommendation, call=call,
        notification=notification, decision=decision, feedback_token=make_feedback_token(original),
        unsubscribe_token=make_unsubscribe_token(customer), integration=integration, api_token=api_token,
        inbox_event=inbox_event, report_import=report_import,
        webhook_subscription=subscription, webhook_delivery=delivery,
        conversation=conversation, text_template=text_template,
        claim=claim,
    )


def user_ids():
    return dict(User.objects.values_list("username", "pk"))
