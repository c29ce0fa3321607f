"""The demo's texts: the templates, and one conversation waiting for its owner — a customer with an open callback
who agreed to texts was told the technician is on the way and has just asked something back (unread, unanswered,
routed to the callback's owner). Written as rows (nothing goes to a provider); dates counted from demo.now."""

from datetime import timedelta

from django.conf import settings

from callbacks.models import Callback
from servicedesk import roles

from .consent import text_consent_set
from .hours import answer_due_at
from .models import Conversation, TextConsent, TextMessage, TextTemplate
from .surveys import DEFAULT_SURVEY, SURVEY_TEMPLATE

TEMPLATES = {
    "On our way": "Hi {first_name}, it's {company}: {technician} is on the way and will be with you shortly.",
    "It's fixed": "Hi {first_name}, {technician} finished the repair on {date}. Reply 1 if all is good, or tell us "
                  "what is still wrong.",
    SURVEY_TEMPLATE: DEFAULT_SURVEY,
}
DEMO_MOBILE = "+13125550142"


def create_texts(demo):
    for name, body in TEMPLATES.items():
        TextTemplate.objects.get_or_create(name=name, defaults={"body": body, "updated_at": demo.now})
    csr = demo.staff[roles.CSR][0]
    callback = (Callback.objects.open().filter(assigned_to=csr).select_related("customer", "job__lead_technician")
                .order_by("pk").first())
    if callback is None:
        demo.log("texts: templates only (no open callback of the demo CSR)")
        return
    customer, now = callback.customer, demo.now
    text_consent_set(customer=customer, mobile=DEMO_MOBILE, granted=True, source=TextConsent.Source.PHONE, by=csr,
                     note="Asked on the call that logged the callback.", now=now - timedelta(hours=3))
    technician = callback.job.lead_technician
    sent, replied = now - timedelta(hours=2), now - timedelta(minutes=10)
    conversation = Conversation.objects.create(
        phone=DEMO_MOBILE, customer=customer, owner=csr, routed_because=f"owner of callback #{callback.pk}",
        last_inbound_at=replied, last_message_at=replied, awaiting_since=replied,
        csrs_due_at=answer_due_at(replied, 15), managers_due_at=answer_due_at(replied, 30),
    )
    who = technician.first_name if technician else "Our technician"
    TextMessage.objects.bulk_create([
        TextMessage(conversation=conversation, direction="out", body=(
            f"Hello from {settings.COMPANY_NAME} about your callback: {who} is coming back today to put it right. "
            f"We'll text when we are on the way."),
            status=TextMessage.Status.DELIVERED, provider_id="SMdemo0001", created_at=sent, sent_at=sent,
            sent_by=csr, callback=callback),
        TextMessage(conversation=conversation, direction="in", body="Thanks. Can he come after 3? I'm at work "
                    "until then.", status=TextMessage.Status.RECEIVED, provider_id="SMdemo0002", created_at=replied,
                    routed_at=replied),
    ])
    demo.counts["texts"] = 2
    demo.log(f"texts: a conversation with {customer} waiting for {csr.username}")
