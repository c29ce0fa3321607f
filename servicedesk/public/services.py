"""The customer's side, where every app is visible: feedback from the public page becomes a callback or praise.

`customers.services.feedback_receive` records the feedback; this module adds what other apps do with it, in the
same transaction, so a callback is never logged for feedback that was rolled back (or the reverse).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from callbacks.models import Callback, Urgency
from callbacks.queues import triage_recipients
from callbacks.services import callback_log
from customers.models import Feedback, Job
from customers.services import feedback_receive
from servicedesk import roles
from servicedesk.notifications import managers, notify

# The account that logs callbacks from the feedback page: inactive with no password, so nobody can sign in as it.
WEB_INTAKE_USERNAME = "customer-web"


def web_intake_user():
    user, created = get_user_model().objects.get_or_create(
        username=WEB_INTAKE_USERNAME,
        defaults={"first_name": "Customer", "last_name": "(feedback page)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _csrs():
    return get_user_model().objects.filter(groups__name=roles.CSR, is_active=True).distinct()


def _callback_job(job):
    # A complaint after a callback revisit is about the original work coming back: log it on the original job,
    # where callback_log marks it a repeat and escalates it (callback_log refuses revisit jobs themselves).
    if job.kind == Job.Kind.CALLBACK_REVISIT:
        original = Callback.objects.filter(revisit_job=job).select_related("job").first()
        if original is not None:
            return original.job
    return job


def _problem(feedback):
    # The customer's words first: the callback list shows the start of the problem.
    rating = f", rated {feedback.rating}/5" if feedback.rating else ""
    call = " Asked to be called back." if feedback.wants_call_back else ""
    source = f"{feedback.get_kind_display().lower()} from the feedback page (feedback #{feedback.pk}{rating})"
    return f"{feedback.text} — {source}.{call}"


def feedback_submit(*, job, kind, text, rating=None, wants_call_back=False, ip_hash="", token_digest="", now=None):
    """Record the customer's feedback; a concern, a complaint or a call-back request becomes a new web callback
    in the office's triage queue (callback_take), and praise goes to the job's technicians and the managers.

    Returns (feedback, callback or None). A do-not-service customer's complaint is still logged: we stand
    behind work already done.
    """
    now = now or timezone.now()
    with transaction.atomic():
        feedback = feedback_receive(
            job=job, kind=kind, text=text, rating=rating, wants_call_back=wants_call_back,
            ip_hash=ip_hash, token_digest=token_digest, now=now,
        )
        callback = None
        customer = job.customer
        if feedback.needs_callback:
            urgency = Urgency.HIGH if kind == Feedback.Kind.COMPLAINT else Urgency.NORMAL
            intake = web_intake_user()
            # Into the office's triage queue, owned by nobody until a CSR takes it: never by the intake account,
            # which nobody can sign in as, so its reminders would reach no one.
            callback = callback_log(
                job=_callback_job(job), problem=_problem(feedback), channel=Callback.Channel.WEB, urgency=urgency,
                logged_by=intake, to_triage=True, now=now,
            )
            notify(
                users=triage_recipients(),
                text=f"New web callback from {customer.name}: {feedback.get_kind_display().lower()} on the "
                     "feedback page, in the triage queue for a CSR to take.",
                url=callback.get_absolute_url(),
            )
        elif kind == Feedback.Kind.PRAISE:
            people = {user.pk: user for user in [*job.technicians, *managers()] if user.is_active}
            stars = f" ({feedback.rating}/5)" if feedback.rating else ""
            notify(
                users=list(people.values()),
                text=f"Praise from {customer.name}{stars}: {feedback.text}",
                url=job.get_absolute_url(),
            )
        else:
            notify(
                users=_csrs(),
                text=f"Question from {customer.name} on the feedback page: {feedback.text}",
                url=customer.get_absolute_url(),
            )
    return feedback, callback
