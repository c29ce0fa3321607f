"""Taking a customer's text in: stored first, unique on the provider's message id (a webhook delivered twice is
stored once), then routed by a thin task after commit (routing.py)."""

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import routing
from .models import MAX_TEXT, Conversation, TextMessage
from .services import Status, conversation_for


def inbound_store(*, provider_id, phone, body, now=None):
    """Store a customer's text as it arrives; (message, stored) — stored False for a webhook delivered again."""
    now = now or timezone.now()
    body = (body or "")[:MAX_TEXT]
    with transaction.atomic():
        try:
            conversation = conversation_for(phone=phone)
        except IntegrityError:  # two first texts from one number at once: the other request made it
            conversation = Conversation.objects.get(phone=phone)
        try:
            with transaction.atomic():
                message = TextMessage.objects.create(
                    conversation=conversation, direction=TextMessage.Direction.IN, body=body,
                    status=Status.RECEIVED, provider_id=provider_id, created_at=now,
                )
        except IntegrityError:
            return TextMessage.objects.get(provider_id=provider_id), False
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, last_inbound_at=now)
        transaction.on_commit(lambda: route_text.delay(message.pk))
    return message, True


@shared_task
def route_text(message_id):
    return routing.route(message_id=message_id)
