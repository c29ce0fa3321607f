"""The texts in the customer's history timeline (customers/history.py): on the customer's trail, so they cost the
page no query of their own."""

from django.urls import reverse

from customers.history import HistoryEntry, trail_columns, trail_person

from .models import TextMessage


def text_rows(customer):
    # The text's status rides in the trail's "to" column: the state it reached.
    return TextMessage.objects.filter(conversation__customer=customer).annotate(**trail_columns(
        "text", at="created_at", action="direction", via=None, note="body", by="sent_by", about="conversation_id",
        to_status="status",
    ))


def text_entry(row):
    incoming = row["trail_action"] == TextMessage.Direction.IN
    status = row["trail_to"]
    return HistoryEntry(
        when=row["trail_at"],
        kind="text",
        title="Text from the customer" if incoming else "Text to the customer",
        url=reverse("texting:conversation", args=[row["trail_about_id"]]),
        detail=row["trail_note"],
        badge="" if incoming or status in ("delivered", "sent", "queued") else TextMessage.Status(status).label,
        people=[] if incoming else trail_person(row),
    )
