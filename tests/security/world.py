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
from recommendations import services as recommendation_services
from recommendations.models import Recommendation, Risk
from servicedesk import roles
from servicedesk.integrations.models import Integration
from servicedesk.integrations.services import api_token_issue
from servicedesk.models import Notification
from servicedesk.tokens import make_feedback_token, make_unsubscribe_token
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
    claim: object


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
    return World(
        users={**users, "anonymous": None}, customer=customer, original_job=original, job=job, other_job=other_job,
        callback=callback, training_item=training_item, recommendation=recommendation, call=call,
        notification=notification, decision=decision, feedback_token=make_feedback_token(original),
        unsubscribe_token=make_unsubscribe_token(customer), integration=integration, api_token=api_token,
        claim=claim,
    )


def user_ids():
    return dict(User.objects.values_list("username", "pk"))
