"""Sending texts and taking them in: every write of the texting room, one keyword-only function per action.

A text is stored first and handed to the provider by a task after commit (`deliver`); in quiet hours it is held
and the send sweep releases it in the morning. Inbound texts are stored first (unique on the provider's id, so a
webhook delivered twice is stored once) and routed by a task (routing.py)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from customers.services import customer_add

from . import backends, consent
from .hours import quiet_until
from .models import MAX_TEXT, Conversation, ConversationRead, TextConsent, TextMessage

Status = TextMessage.Status
Kind = TextMessage.Kind

# A provider status never goes back: a late "sent" after "delivered" is ignored.
STATUS_RANK = {Status.PENDING: 0, Status.SENDING: 1, Status.QUEUED: 2, Status.ACCEPTED: 2, Status.SENT: 3,
               Status.DELIVERED: 4, Status.UNDELIVERED: 4, Status.FAILED: 4}
# A message claimed for sending this long ago whose worker died is handed out again by the sweep.
STUCK_AFTER = timedelta(minutes=5)


def check_body(body):
    body = (body or "").strip()
    if not body:
        raise ValidationError("Write the text first.")
    if len(body) > MAX_TEXT:
        raise ValidationError(f"A text may be at most {MAX_TEXT:,} characters; this one has {len(body):,}.")
    return body


def conversation_for(*, phone, customer=None):
    conversation, _ = Conversation.objects.get_or_create(phone=phone, defaults={"customer": customer})
    if customer is not None and conversation.customer_id is None:
        Conversation.objects.filter(pk=conversation.pk, customer=None).update(customer=customer)
        conversation.customer = customer
    return conversation


def text_send(*, body, by=None, customer=None, conversation=None, kind=Kind.MESSAGE, callback=None,
              recommendation=None, follow_up_call=None, next_update_due_at=None, now=None):
    """Text the customer (or answer the number, for STOP/START/HELP). Refused, saying why, without consent, to a
    do-not-service customer or one who opted out; held until the morning in quiet hours (`status` says so)."""
    now = now or timezone.now()
    body = check_body(body)
    customer = customer or (conversation.customer if conversation else None)
    if kind == Kind.CONFIRMATION:
        phone = conversation.phone
    else:
        reason = consent.why_not_text(customer)
        if reason:
            raise ValidationError(reason)
        phone = TextConsent.objects.get(customer=customer).mobile
    held_until = None if kind == Kind.CONFIRMATION else quiet_until(now)
    with transaction.atomic():
        conversation = conversation if conversation and conversation.phone == phone else conversation_for(
            phone=phone, customer=customer)
        message = TextMessage.objects.create(
            conversation=conversation, direction=TextMessage.Direction.OUT, kind=kind, body=body,
            status=Status.HELD if held_until else Status.PENDING, send_after=held_until, created_at=now, sent_by=by,
            callback=callback, recommendation=recommendation, follow_up_call=follow_up_call,
        )
        answered = {}
        if by is not None:
            # A person answered: the reply is no longer waiting, and its escalation stops.
            answered = {"awaiting_since": None, "csrs_due_at": None, "managers_due_at": None,
                        "escalation": Conversation.Escalation.NONE}
            ConversationRead.objects.update_or_create(user=by, conversation=conversation, defaults={"read_at": now})
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, **answered)
        if callback is not None:
            from callbacks.models import CustomerContact
            from callbacks.services import callback_record_contact

            callback_record_contact(callback=callback, by=by, kind=CustomerContact.Kind.NOTE,
                                    summary=f"Text message: {body}"[:2000], next_update_due_at=next_update_due_at,
                                    now=now)
        if not held_until:
            transaction.on_commit(lambda: deliver_text.delay(message.pk))
    return message


def status_callback_url():
    return f"{settings.SITE_URL}{reverse('texting_hooks:status')}"


def deliver(*, message_id, now=None):
    """Hand one text to the provider. The conditional update claims it, so a task delivered twice sends it once;
    consent is checked again (a STOP may have come while it was held). A provider error a retry cannot fix fails
    the text with its code (21610, unsubscribed, withdraws consent); any other is raised for the task's retry."""
    now = now or timezone.now()
    if not TextMessage.objects.filter(pk=message_id, status=Status.PENDING).update(status=Status.SENDING,
                                                                                   sent_at=now):
        return False
    message = TextMessage.objects.select_related("conversation__customer").get(pk=message_id)
    if message.kind != Kind.CONFIRMATION:
        reason = consent.why_not_text(message.conversation.customer)
        if reason:
            TextMessage.objects.filter(pk=message_id).update(status=Status.CANCELLED, error=reason[:300])
            return False
    try:
        provider_id, status = backends.backend().send(to=message.conversation.phone, body=message.body,
                                                      status_callback=status_callback_url())
    except backends.SendError as error:
        if not error.permanent:
            TextMessage.objects.filter(pk=message_id).update(status=Status.PENDING)
            raise
        TextMessage.objects.filter(pk=message_id).update(status=Status.FAILED, error_code=error.code,
                                                         error=str(error)[:300])
        if error.code == backends.UNSUBSCRIBED:
            consent.withdraw_for_number(mobile=message.conversation.phone, source=consent.Source.PROVIDER,
                                        note="The provider reports the number unsubscribed (21610).", now=now)
        return False
    status = status if status in STATUS_RANK else Status.QUEUED
    TextMessage.objects.filter(pk=message_id, status=Status.SENDING).update(provider_id=provider_id, status=status)
    TextMessage.objects.filter(pk=message_id, provider_id__isnull=True).update(provider_id=provider_id)
    return True


def status_record(*, provider_id, status, error_code="", now=None):
    """The provider's status callback: queued, sent, delivered, failed, undelivered (with the error code)."""
    if status not in STATUS_RANK:
        return False
    message = TextMessage.objects.select_related("conversation").filter(provider_id=provider_id).first()
    if message is None or STATUS_RANK.get(message.status, 0) > STATUS_RANK[status]:
        return False
    TextMessage.objects.filter(pk=message.pk).update(status=status, error_code=(error_code or "")[:10])
    if error_code == backends.UNSUBSCRIBED:
        consent.withdraw_for_number(mobile=message.conversation.phone, source=consent.Source.PROVIDER,
                                    note="The provider reports the number unsubscribed (21610).", now=now)
    return True


def conversation_mark_read(*, conversation, user, now=None):
    ConversationRead.objects.update_or_create(user=user, conversation=conversation,
                                              defaults={"read_at": now or timezone.now()})


def send_due_texts(*, now=None):
    """The send sweep: texts held for quiet hours whose morning has come, and texts whose task was lost, are handed
    to the worker (each claimed by its conditional update, so a run twice sends each once). Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        held = list(TextMessage.objects.select_for_update(skip_locked=True)
                    .filter(status=Status.HELD, send_after__lte=now).values_list("pk", flat=True)[:1000])
        TextMessage.objects.filter(pk__in=held).update(status=Status.PENDING)
        # Pending since it was written, or since its quiet hours ended, and still not claimed by a worker.
        stuck = list(TextMessage.objects.filter(status=Status.PENDING)
                     .filter(Q(send_after__isnull=True, created_at__lte=now - STUCK_AFTER)
                             | Q(send_after__lte=now - STUCK_AFTER))
                     .exclude(pk__in=held).values_list("pk", flat=True)[:1000])
        ids = held + stuck
        transaction.on_commit(lambda: [deliver_text.delay(pk) for pk in ids])
    return len(ids)


# The thin task that hands a text to the provider (here rather than in tasks.py: text_send enqueues it).
@shared_task(autoretry_for=(backends.SendError,), retry_backoff=30, retry_backoff_max=3600, max_retries=8)
def deliver_text(message_id):
    return deliver(message_id=message_id)


def conversation_customer_link(*, conversation, customer):
    """Texts from an unknown (or shared) number linked to the customer they are from: they join the customer's
    texts and trail, and the customer's open matters route the next reply."""
    Conversation.objects.filter(pk=conversation.pk).update(customer=customer)


def conversation_customer_add(*, conversation, name, street, city):
    """Someone we do not know yet texted: the customer, with the number they texted from as their phone and their
    service address, and the conversation linked to them. Texting them still needs their consent."""
    with transaction.atomic():
        customer = customer_add(name=name, phone=conversation.phone, street=street, city=city)
        conversation_customer_link(conversation=conversation, customer=customer)
    return customer
