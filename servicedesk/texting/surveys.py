"""The post-visit follow-up by text, for customers who prefer texts and agreed to them: instead of queueing the
call at once, "How did we do on your visit with Maria on Tuesday? Reply 1-5". A 4 or 5 is recorded on the call,
which is then done; 1-3 or words put the call at the head of the CSRs' queue at once (service recovery); no answer
in two days and the call is in the queue as today's, as it would have been."""

import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format

from callbacks.follow_ups.models import FollowUpCall
from customers.models import Customer
from servicedesk import roles
from servicedesk.notifications import notify

from .models import TextConsent, TextMessage, TextSurvey, TextTemplate
from .services import text_send

WAIT = timedelta(days=2)
SURVEY_TEMPLATE = "Post-visit question"
DEFAULT_SURVEY = ("Hi {first_name}, it's {company}. How did we do on your visit with {technician} on {date}? "
                  "Reply 1-5 (5 = great). Reply STOP to stop texts.")
BATCH = 200


def fill(body, *, customer=None, technician=None, day=None):
    from django.conf import settings

    values = {
        "first_name": (customer.name.split()[0] if customer and customer.name.strip() else "there"),
        "company": settings.COMPANY_NAME,
        "technician": (technician.first_name or technician.get_full_name() or technician.username)
                      if technician else "our technician",
        "date": date_format(day, "l") if day else "your visit",
    }
    return re.sub(r"\{(first_name|company|technician|date)\}", lambda m: values[m.group(1)], body)


def send_post_visit_texts(*, now=None):
    """The sweep: for each follow-up call fallen due, never tried, to a customer who prefers texts and consented,
    send the question and hold the call two days. The survey row (unique per call) and the call's conditional
    update claim it, so a run twice texts each customer once. Returns how many were sent."""
    now = now or timezone.now()
    consenting = TextConsent.objects.filter(customer=OuterRef("customer"), granted=True)
    calls = list(
        FollowUpCall.objects.filter(state=FollowUpCall.State.DUE, attempts=0, next_attempt_at__lte=now,
                                    customer__preferred_contact=Customer.ContactMethod.TEXT,
                                    customer__contact_opt_out=False, customer__do_not_service=False)
        .filter(Exists(consenting)).exclude(Exists(TextSurvey.objects.filter(call=OuterRef("pk"))))
        .select_related("customer", "job__lead_technician").order_by("next_attempt_at")[:BATCH]
    )
    template = TextTemplate.objects.filter(name=SURVEY_TEMPLATE).values_list("body", flat=True).first()
    sent = 0
    for call in calls:
        job = call.job
        body = fill(template or DEFAULT_SURVEY, customer=call.customer, technician=job.lead_technician,
                    day=timezone.localtime(job.completed_at or job.scheduled_start).date())
        try:
            with transaction.atomic():
                if not FollowUpCall.objects.filter(pk=call.pk, state=FollowUpCall.State.DUE, attempts=0).update(
                        next_attempt_at=now + WAIT):
                    continue
                message = text_send(customer=call.customer, body=body, kind=TextMessage.Kind.SURVEY,
                                    follow_up_call=call, now=now)
                TextSurvey.objects.create(call=call, conversation=message.conversation, sent_at=now)
        except IntegrityError:
            continue  # another run sent this one's
        sent += 1
    return sent


def answer(*, conversation, message, now):
    """A reply to the open question in this conversation: True when it was the answer (handled here)."""
    survey = (TextSurvey.objects.select_for_update().filter(conversation=conversation, answered_at__isnull=True)
              .select_related("call").order_by("-sent_at").first())
    # The reply's own arrival counts (a text routed late by the sweep is still an answer in time).
    now = message.created_at
    if survey is None or now - survey.sent_at > WAIT + timedelta(days=5):
        return False
    text = message.body.strip().rstrip(".!")
    rating = int(text) if re.fullmatch(r"[1-5]", text) else None
    survey.answered_at, survey.rating = now, rating
    survey.save(update_fields=["answered_at", "rating"])
    call = survey.call
    if rating is not None and rating >= 4:
        FollowUpCall.objects.filter(pk=call.pk, state=FollowUpCall.State.DUE).update(
            state=FollowUpCall.State.DONE, outcome=FollowUpCall.Outcome.REACHED, satisfaction=rating,
            issues="", completed_at=now)
        return True
    # Service recovery: the call is due now, at the head of the queue, and the CSRs are told.
    FollowUpCall.objects.filter(pk=call.pk, state=FollowUpCall.State.DUE).update(next_attempt_at=call.due_at)
    from django.contrib.auth import get_user_model

    csrs = get_user_model().objects.filter(groups__name=roles.CSR, is_active=True).distinct()
    said = f"scored the visit {rating}/5" if rating else f"answered “{message.body[:80]}”"
    notify(users=list(csrs), text=f"{call.customer} {said} by text: their follow-up call is in the queue now.",
           url=call.get_absolute_url())
    return False
