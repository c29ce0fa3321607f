"""Where a customer's text goes: STOP/START/HELP answered, a post-visit score recorded, and every other reply to
the person who owns the customer's open matter, chased until answered.

The owner, in order: the owner of the customer's open callback; else the CSR holding, or last working, their
follow-up call; else the owner of their open recommendation the last text was about; else the office's shared
Texts queue. A number several customers share goes to the office queue, which lists them."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from callbacks.business_clock import company_calendar
from callbacks.follow_ups.models import CallAttempt, FollowUpCall
from callbacks.models import Callback
from servicedesk import roles
from servicedesk.notifications import managers, notify

from . import consent, surveys
from .hours import answer_due_at
from .models import Conversation, TextMessage
from .services import text_send


def _user_of_role(role):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()


def owner_for(customer, conversation):
    """(owner or None, why) by the order above."""
    callback = (Callback.objects.open().filter(customer=customer, assigned_to__is_active=True)
                .select_related("assigned_to").order_by("-logged_at", "-pk").first())
    if callback is not None:
        return callback.assigned_to, f"owner of callback #{callback.pk}"
    held = (FollowUpCall.objects.filter(customer=customer, state=FollowUpCall.State.CLAIMED)
            .select_related("claimed_by").order_by("-claimed_at").first())
    if held is not None:
        return held.claimed_by, "on their follow-up call"
    attempt = (CallAttempt.objects.filter(call__customer=customer, by__is_active=True).select_related("by")
               .order_by("-at", "-pk").first())
    if attempt is not None:
        return attempt.by, "last worked their follow-up call"
    about = (TextMessage.objects.filter(conversation=conversation, direction=TextMessage.Direction.OUT,
                                        recommendation__isnull=False)
             .select_related("recommendation__owner").order_by("-created_at", "-pk").first())
    if about is not None and about.recommendation.state in about.recommendation.OUTSTANDING_STATES:
        if about.recommendation.owner.is_active:
            return about.recommendation.owner, f"owner of the recommendation “{about.recommendation.what}”"
    return None, "no open matter: the shared Texts queue"


def route(*, message_id, now=None):
    """Route one stored inbound text, once (claimed by its routed_at)."""
    now = now or timezone.now()
    with transaction.atomic():
        if not TextMessage.objects.filter(pk=message_id, routed_at__isnull=True).update(routed_at=now):
            return False
        message = TextMessage.objects.select_related("conversation").get(pk=message_id)
        conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
        matches = list(consent.customers_with_number(conversation.phone)[:11])
        customer = matches[0] if len(matches) == 1 else conversation.customer
        if customer is not None and conversation.customer_id is None:
            conversation.customer = customer
        word = consent.keyword(message.body)
        if word:
            _answer_keyword(word, conversation, matches, now)
            conversation.save(update_fields=["customer"])
            return True
        if customer is not None and surveys.answer(conversation=conversation, message=message, now=now):
            conversation.save(update_fields=["customer"])
            return True
        if len(matches) > 1 and conversation.customer_id is None:
            owner, why = None, f"{len(matches)} customers have this number: "  + ", ".join(c.name for c in matches)
        elif customer is None:
            owner, why = None, "unknown number: add or link the customer"
        else:
            owner, why = owner_for(customer, conversation)
        conversation.owner, conversation.routed_because = owner, why[:200]
        if conversation.awaiting_since is None:
            conversation.awaiting_since = message.created_at
            calendar = company_calendar()
            conversation.csrs_due_at = answer_due_at(message.created_at, settings.TEXT_ANSWER_MINUTES,
                                                     calendar=calendar)
            conversation.managers_due_at = answer_due_at(message.created_at, 2 * settings.TEXT_ANSWER_MINUTES,
                                                         calendar=calendar)
            conversation.escalation = Conversation.Escalation.NONE
        conversation.save(update_fields=["customer", "owner", "routed_because", "awaiting_since", "csrs_due_at",
                                         "managers_due_at", "escalation"])
        who = conversation.customer or conversation.phone
        recipients = [owner] if owner else list(_user_of_role(roles.CSR))
        notify(users=recipients, text=f"Text from {who}: {message.body[:120]}", url=conversation.get_absolute_url())
    return True


def _answer_keyword(word, conversation, matches, now):
    if word == "stop":
        withdrawn = consent.withdraw_for_number(mobile=conversation.phone, source=consent.Source.REPLY,
                                                note="Texted STOP.", now=now)
        already = TextMessage.objects.filter(conversation=conversation, kind=TextMessage.Kind.CONFIRMATION,
                                             body__startswith="You are unsubscribed").exists()
        if withdrawn or not already:
            text_send(conversation=conversation, kind=TextMessage.Kind.CONFIRMATION, now=now,
                      body=f"You are unsubscribed from {settings.COMPANY_NAME} texts. No more messages will be "
                           f"sent. Reply START to resubscribe.")
    elif word == "start":
        consent.restore_for_number(mobile=conversation.phone, customers=matches, now=now)
        text_send(conversation=conversation, kind=TextMessage.Kind.CONFIRMATION, now=now,
                  body=f"You are subscribed to {settings.COMPANY_NAME} texts again. Reply STOP to stop, HELP for "
                       f"help.")
    else:
        text_send(conversation=conversation, kind=TextMessage.Kind.CONFIRMATION, now=now,
                  body=f"{settings.COMPANY_NAME}: call us at {settings.COMPANY_PHONE}. Reply STOP to stop texts.")


def escalate_unanswered_texts(*, now=None):
    """The escalation sweep: a reply unanswered past TEXT_ANSWER_MINUTES (of opening hours) goes to every CSR,
    past twice that to the managers. Each step is claimed by a conditional update, so a run twice (or two at once)
    escalates once. Also routes any stored text whose routing task was lost. Returns (to CSRs, to managers)."""
    now = now or timezone.now()
    stalled = list(TextMessage.objects.filter(direction=TextMessage.Direction.IN, routed_at__isnull=True,
                                              created_at__lte=now - timezone.timedelta(minutes=1))
                   .values_list("pk", flat=True)[:500])
    for pk in stalled:
        route(message_id=pk, now=now)
    counts = []
    for level, due in ((Conversation.Escalation.CSRS, "csrs_due_at"), (Conversation.Escalation.MANAGERS,
                                                                         "managers_due_at")):
        with transaction.atomic():
            ids = list(Conversation.objects.select_for_update(skip_locked=True)
                       .filter(awaiting_since__isnull=False, escalation=level - 1, **{f"{due}__lte": now})
                       .values_list("pk", flat=True)[:1000])
            Conversation.objects.filter(pk__in=ids, escalation=level - 1).update(escalation=level)
            conversations = Conversation.objects.filter(pk__in=ids).select_related("customer").annotate(
                since=F("awaiting_since"))
            people = list(_user_of_role(roles.CSR)) if level == Conversation.Escalation.CSRS else list(managers())
            for conversation in conversations:
                minutes = settings.TEXT_ANSWER_MINUTES * (1 if level == Conversation.Escalation.CSRS else 2)
                notify(users=people, email=level == Conversation.Escalation.MANAGERS,
                       text=f"A text from {conversation.customer or conversation.phone} is unanswered after "
                            f"{minutes} minutes of opening hours.", url=conversation.get_absolute_url())
            counts.append(len(ids))
    return tuple(counts)
