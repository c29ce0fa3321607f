"""The texts in the customer's history timeline (customers/history.py): one query."""

from django.urls import reverse

from customers.history import HistoryEntry

from .models import TextMessage


def text_entries(customer, *, limit):
    texts = (TextMessage.objects.filter(conversation__customer=customer).select_related("sent_by")
             .order_by("-created_at", "-pk")[:limit])
    for text in texts:
        incoming = text.direction == TextMessage.Direction.IN
        yield HistoryEntry(
            when=text.created_at,
            kind="text",
            title="Text from the customer" if incoming else "Text to the customer",
            url=reverse("texting:conversation", args=[text.conversation_id]),
            detail=text.body,
            badge="" if incoming or text.status in ("delivered", "sent", "queued") else text.get_status_display(),
            people=[] if incoming or not text.sent_by_id else [text.sent_by.get_full_name() or text.sent_by.username],
        )
