"""Texts with customers: consent per customer, one conversation per phone number, each message with its provider
status, each user's own read mark, the templates managers edit, and the post-visit question sent by text.

A room of the roof (it reads callbacks, follow-up calls and recommendations to route a reply to their owner)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from servicedesk import limits

# Twilio's limit for one message (ten segments); longer ones are refused at entry with the count.
MAX_TEXT = 1_600


class TextConsent(models.Model):
    """Whether a customer lets us text them, at which mobile number, and where that came from (TCPA: recorded
    consent). One row per customer, kept by servicedesk.texting.consent; every change is a TextConsentEvent."""

    class Source(models.TextChoices):
        IMPORT = "import", "the import's column"
        PHONE = "phone", "a CSR, with the customer on the phone"
        REPLY = "reply", "the customer's text reply"
        PROVIDER = "provider", "the text provider (number unsubscribed)"

    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT, related_name="text_consent")
    mobile = models.CharField(max_length=20, help_text="E.164, e.g. +13125550142.")
    granted = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["mobile"], name="text_consent_mobile")]

    def __str__(self):
        return f"{'Consent' if self.granted else 'No consent'} to text {self.mobile}"


class TextConsentEvent(models.Model):
    """The consent log: every grant and withdrawal, who (nobody for the customer's own reply), when, and how."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="text_consent_events")
    mobile = models.CharField(max_length=20)
    granted = models.BooleanField()
    source = models.CharField(max_length=10, choices=TextConsent.Source.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField(max_length=limits.NOTE, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["customer", "-at"], name="text_consent_event_customer")]
        constraints = limits.text_limits("texting_textconsentevent", note=limits.NOTE)

    def __str__(self):
        return f"{'Granted' if self.granted else 'Withdrawn'} via {self.get_source_display()}"


class ConversationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The office sees every conversation; anyone else the ones they own."""
        from servicedesk import roles

        if roles.is_office(user):
            return self
        return self.filter(owner=user)

    def unread_by(self, user):
        """Conversations with a customer's text newer than the user's own read mark: theirs, and the office's
        shared queue for office staff. One person reading marks nothing read for anyone else."""
        from servicedesk import roles

        seen = ConversationRead.objects.filter(
            user=user, conversation=models.OuterRef("pk"), read_at__gte=models.OuterRef("last_inbound_at")
        )
        mine = Q(owner=user)
        if roles.is_office(user):
            mine |= Q(owner__isnull=True)
        return self.filter(mine, last_inbound_at__isnull=False).exclude(models.Exists(seen))

    def unanswered(self):
        return self.filter(awaiting_since__isnull=False)


class Conversation(models.Model):
    """Every text to and from one phone number. The customer is known when the number matched exactly one; the
    owner is who answers it (the office's shared Texts queue when nobody)."""

    class Escalation(models.IntegerChoices):
        NONE = 0, "Not escalated"
        CSRS = 1, "Escalated to the CSRs"
        MANAGERS = 2, "Escalated to the managers"

    phone = models.CharField(max_length=20, unique=True, help_text="E.164.")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="text_conversations"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    # Why the owner is the owner, as the inbox says it ("the callback's owner", "several customers have this number").
    routed_because = models.CharField(max_length=200, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    # The customer's oldest reply nobody has answered, and when it is escalated (minutes outside quiet hours).
    awaiting_since = models.DateTimeField(null=True, blank=True)
    csrs_due_at = models.DateTimeField(null=True, blank=True)
    managers_due_at = models.DateTimeField(null=True, blank=True)
    escalation = models.PositiveSmallIntegerField(choices=Escalation.choices, default=Escalation.NONE)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-last_message_at"], name="conversation_owner"),
            models.Index(fields=["-last_message_at"], name="conversation_recent"),
            models.Index(fields=["customer"], name="conversation_customer"),
            # The unanswered tab, oldest first, and the escalation sweep: only replies still waiting.
            models.Index(fields=["awaiting_since", "id"], name="conversation_awaiting",
                         condition=Q(awaiting_since__isnull=False)),
        ]

    def __str__(self):
        return f"Texts with {self.customer or self.phone}"

    def get_absolute_url(self):
        return reverse("texting:conversation", args=[self.pk])


class TextMessage(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "From the customer"
        OUT = "out", "To the customer"

    class Status(models.TextChoices):
        HELD = "held", "Held for quiet hours"
        PENDING = "pending", "Sending"
        QUEUED = "queued", "Queued"
        ACCEPTED = "accepted", "Accepted"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not sent"
        RECEIVED = "received", "Received"

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        CONFIRMATION = "confirmation", "STOP/START/HELP answer"
        SURVEY = "survey", "Post-visit question"

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MESSAGE)
    body = models.TextField(max_length=MAX_TEXT)
    status = models.CharField(max_length=12, choices=Status.choices)
    # Twilio's MessageSid: unique, so a webhook delivered twice is stored once.
    provider_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    error_code = models.CharField(max_length=10, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    # An inbound text is routed (keywords, survey answer, owner) by a task once stored; null until then.
    routed_at = models.DateTimeField(null=True, blank=True)
    # What an outbound text was about: a reply is routed to that matter's owner.
    callback = models.ForeignKey("callbacks.Callback", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    recommendation = models.ForeignKey("recommendations.Recommendation", on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="+")
    follow_up_call = models.ForeignKey("callbacks.FollowUpCall", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="text_message_conversation"),
            models.Index(fields=["send_after"], name="text_message_held", condition=Q(status="held")),
            models.Index(fields=["created_at"], name="text_message_unrouted",
                         condition=Q(direction="in", routed_at__isnull=True)),
        ]
        constraints = limits.text_limits("texting_textmessage", body=MAX_TEXT)

    def __str__(self):
        return f"{self.get_direction_display()}: {self.body[:40]}"


class ConversationRead(models.Model):
    """Each user's own read mark on a conversation: opening it marks it read for that user alone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="conversation_read_once")]

    def __str__(self):
        return f"Read by {self.user} at {self.read_at:%Y-%m-%d %H:%M}"


class TextTemplate(models.Model):
    """A text the office sends often, with placeholders filled in when it is picked: {first_name}, {company},
    {technician}, {date}. Managers edit them; edits are on the settings trail."""

    name = models.CharField(max_length=80, unique=True)
    body = models.TextField(max_length=MAX_TEXT)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = limits.text_limits("texting_texttemplate", body=MAX_TEXT)

    def __str__(self):
        return self.name


class TextSurvey(models.Model):
    """The post-visit question sent by text instead of the follow-up call ("How did we do ... Reply 1-5"), one per
    call. The call waits two days for the answer; a low score or words open it for a CSR at once."""

    call = models.OneToOneField("callbacks.FollowUpCall", on_delete=models.PROTECT, related_name="text_survey")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="surveys")
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["conversation"], name="text_survey_open",
                                condition=Q(answered_at__isnull=True))]

    def __str__(self):
        return f"Post-visit question on call #{self.call_id}"
