"""The Texts pages: the inbox and its unread badge with constant queries, a conversation, sending with consent,
the consent form and log, linking an unknown number or adding it as a customer, the templates managers edit."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from servicedesk import roles
from servicedesk.texting import backends
from servicedesk.texting.models import Conversation, ConversationRead, TextConsent, TextMessage, TextTemplate
from tests.factories import CustomerFactory, UserFactory

from .conftest import MOBILE

pytestmark = pytest.mark.django_db


def conversations(n, *, owner=None):
    now = timezone.now()
    first = Conversation.objects.count()
    for i in range(first, first + n):
        customer = CustomerFactory()
        conversation = Conversation.objects.create(phone=f"+1312555{i:04d}", customer=customer, owner=owner,
                                                   last_inbound_at=now, awaiting_since=now)
        TextMessage.objects.create(conversation=conversation, direction="in", body=f"Question {i}", status="received")


@pytest.mark.parametrize("tab", ["mine", "office", "unanswered"])
def test_the_inbox_takes_the_same_queries_for_3_or_30_conversations(client_for, csr, tab, django_assert_num_queries):
    client = client_for(csr)
    conversations(3, owner=csr if tab == "mine" else None)
    with django_assert_num_queries(6) as few:
        client.get(reverse("texting:inbox"), {"tab": tab})
    conversations(27, owner=csr if tab == "mine" else None)
    # session, user, roles, the count for the pages, the page of conversations (with the last text and the
    # user's read mark), and the notifications badge
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("texting:inbox"), {"tab": tab})
    assert response.content.decode().count("Question ") == 30


def test_the_badge_counts_the_users_own_unread_conversations(client_for, csr, django_assert_num_queries):
    conversations(2)
    client = client_for(csr)
    with django_assert_num_queries(4):
        response = client.get(reverse("texting:badge"))
    assert ">2<" in response.content.decode()


def test_a_technician_sees_only_the_conversations_they_own(client_for, technician, csr):
    conversations(1, owner=csr)
    client = client_for(technician)
    assert "Question 0" not in client.get(reverse("texting:inbox"), {"tab": "office"}).content.decode()
    assert client.get(reverse("texting:conversation", args=[Conversation.objects.get().pk])).status_code == 404


def test_an_outsider_gets_nothing(client_for, outsider, texting_customer):
    client = client_for(outsider)
    assert client.get(reverse("texting:inbox")).status_code == 403
    assert client.get(reverse("texting:customer", args=[texting_customer.pk])).status_code == 403


def test_opening_a_conversation_marks_it_read_for_that_user_only(client_for, csr):
    conversations(1)
    conversation = Conversation.objects.get()
    client_for(csr).get(conversation.get_absolute_url())
    assert list(ConversationRead.objects.values_list("user__username", flat=True)) == ["csr"]


def test_a_csr_records_consent_and_texts_the_customer(client_for, csr, django_capture_on_commit_callbacks):
    customer = CustomerFactory(name="Ray Ortiz")
    client = client_for(csr)
    refused = client.post(reverse("texting:consent", args=[customer.pk]), {"mobile": "555-0100", "granted": "on"},
                          follow=True)
    assert "not a valid mobile number" in refused.content.decode()
    assert not TextConsent.objects.exists()

    client.post(reverse("texting:consent", args=[customer.pk]), {"mobile": "(312) 555-0142", "granted": "on"})
    consent = TextConsent.objects.get()
    assert (consent.mobile, consent.granted, consent.source, consent.by) == (MOBILE, True, "phone", csr)

    too_long = client.post(reverse("texting:customer", args=[customer.pk]), {"body": "y" * 1700})
    assert "this one has 1,700" in too_long.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("texting:customer", args=[customer.pk]), {"body": "Hi Ray"}, follow=True)
    page = response.content.decode()
    assert "Hi Ray" in page and "agreed at +13125550142" in page
    sent = TextMessage.objects.get()
    assert sent.sent_by == csr and sent.status in ("queued", "held")


def test_a_text_from_an_unknown_number_is_linked_to_a_customer(client_for, csr):
    conversation = Conversation.objects.create(phone="+16305550100", last_inbound_at=timezone.now())
    customer = CustomerFactory(name="Lena Park")
    client = client_for(csr)
    assert "Link to customer" in client.get(conversation.get_absolute_url()).content.decode()

    client.post(reverse("texting:link", args=[conversation.pk]), {"customer": customer.pk})

    conversation.refresh_from_db()
    assert conversation.customer == customer


def test_a_csr_adds_whoever_texted_from_an_unknown_number_as_a_new_customer(client_for, csr):
    conversation = Conversation.objects.create(phone="+16305550101", last_inbound_at=timezone.now())
    client = client_for(csr)
    assert "Add as customer" in client.get(conversation.get_absolute_url()).content.decode()

    incomplete = client.post(reverse("texting:add_customer", args=[conversation.pk]), {"name": "Omar Haddad"},
                             follow=True)
    assert "give their name, street address and city" in incomplete.content.decode()
    assert not Customer.objects.filter(name="Omar Haddad").exists()

    response = client.post(reverse("texting:add_customer", args=[conversation.pk]),
                           {"name": "Omar Haddad", "street": "41 Elm Street", "city": "Naperville"}, follow=True)

    conversation.refresh_from_db()
    customer = conversation.customer
    assert (customer.name, customer.phone, customer.phone_digits) == ("Omar Haddad", "+16305550101", "6305550101")
    assert [(site.street, site.city) for site in customer.sites.all()] == [("41 Elm Street", "Naperville")]
    assert "Omar Haddad added as a customer" in response.content.decode()
    # Added once: asked again, the conversation already has its customer.
    client.post(reverse("texting:add_customer", args=[conversation.pk]),
                {"name": "Omar Haddad", "street": "41 Elm Street", "city": "Naperville"})
    assert Customer.objects.filter(name="Omar Haddad").count() == 1


def test_managers_edit_templates_and_a_template_fills_its_placeholders(client_for, manager, texting_customer,
                                                                        settings):
    client = client_for(manager)
    client.post(reverse("texting:template_new"), {"name": "On our way",
                                                  "body": "Hi {first_name}, {company} is on the way."})
    template = TextTemplate.objects.get()
    page = client.get(reverse("texting:customer", args=[texting_customer.pk]), {"template": template.pk})
    assert f"Hi Dana, {settings.COMPANY_NAME} is on the way." in page.content.decode().replace("&amp;", "&")

    csr = UserFactory(username="carla", role=roles.CSR)
    assert client_for(csr).get(reverse("texting:templates")).status_code == 403


def test_quiet_hours_tell_the_sender_when_the_text_goes(client_for, csr, texting_customer, settings):
    local_now = timezone.localtime()
    # Quiet hours around this very minute, whatever the time the test runs.
    start, end = (local_now - timedelta(minutes=5)), (local_now + timedelta(minutes=55))
    settings.TEXT_QUIET_HOURS = f"{start:%H:%M}-{end:%H:%M}"
    response = client_for(csr).post(reverse("texting:customer", args=[texting_customer.pk]), {"body": "Later"},
                                    follow=True)
    assert "Quiet hours: the text waits until" in response.content.decode()
    assert not backends.outbox
