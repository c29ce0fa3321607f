"""The managers' page per subscription, under the integration's page: events chosen, the last 100 attempts, a test
event, replay, disable and enable, the secret shown once. Nobody else sees it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from servicedesk.models import SettingChange
from servicedesk.webhooks.models import Attempt, Delivery, Subscription

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_subscription_and_sees_its_secret_once(client_for, manager, integration, receiver):
    client = client_for(manager)
    response = client.post(reverse("webhooks:add", args=[integration.pk]), {
        "label": "Team chat", "url": receiver.url, "event_types": ["callback.logged", "feedback.received"],
    })
    subscription = Subscription.objects.get()
    assert response.url == subscription.get_absolute_url()

    page = client.get(response.url).content.decode()
    assert subscription.secret in page and "callback.logged" in page
    assert subscription.secret not in client.get(response.url).content.decode()
    assert len(Webhook(subscription.secret)._whsecret) == 32
    assert "Team chat" in client.get(integration.get_absolute_url()).content.decode()
    assert SettingChange.objects.filter(setting=subscription.setting_name, by=manager).exists()


def test_a_url_to_a_private_address_is_a_form_error(client_for, manager, integration, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    response = client_for(manager).post(reverse("webhooks:add", args=[integration.pk]), {
        "label": "Board", "url": "https://10.0.0.1/in", "event_types": ["callback.logged"],
    })
    assert response.status_code == 200 and "private address" in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_page_lists_the_last_100_attempts_in_a_fixed_number_of_queries(
        client_for, manager, subscribe, receiver, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    subscription, _ = subscribe(receiver.url)
    client = client_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:test", args=[subscription.integration_id, subscription.pk]))
    attempt = Attempt.objects.get()
    Attempt.objects.bulk_create([Attempt(delivery=attempt.delivery, subscription=subscription, status_code=500,
                                         at=timezone.now() - timedelta(minutes=n)) for n in range(1, 120)])

    with django_assert_max_num_queries(12):
        page = client.get(subscription.get_absolute_url())
    assert page.content.decode().count("webhook.test") == 100
    assert "200 delivered" in page.content.decode()


def test_replay_disable_and_enable(client_for, manager, subscribe, receiver, django_capture_on_commit_callbacks):
    subscription, _ = subscribe(receiver.url)
    client = client_for(manager)
    args = [subscription.integration_id, subscription.pk]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:test", args=args))
    row = Delivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:replay", args=[*args, row.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:replay_since", args=args),
                    {"since": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert len(receiver.requests) == 3 and len(set(receiver.ids())) == 1

    client.post(reverse("webhooks:disable", args=args))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:test", args=args))
    assert len(receiver.requests) == 3  # waits while disabled
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:enable", args=args))
    assert len(receiver.requests) == 4
    assert list(SettingChange.objects.filter(setting=subscription.setting_name, item="enabled")
                .order_by("at", "pk").values_list("after", flat=True)) == ["no", "yes"]


@pytest.mark.parametrize("who", ["csr", "technician", "sales", "outsider"])
def test_only_managers_see_or_act_on_a_subscription(request, client_for, subscribe, receiver, who):
    subscription, _ = subscribe(receiver.url)
    client = client_for(request.getfixturevalue(who))
    args = [subscription.integration_id, subscription.pk]
    assert client.get(subscription.get_absolute_url()).status_code == 403
    assert client.get(reverse("webhooks:add", args=[subscription.integration_id])).status_code == 403
    for name in ("test", "disable", "rotate"):
        assert client.post(reverse(f"webhooks:{name}", args=args)).status_code == 403
    assert not Delivery.objects.exists() and Subscription.objects.get().enabled


def test_a_subscription_is_found_only_under_its_own_integration(client_for, manager, subscribe, receiver):
    subscription, _ = subscribe(receiver.url)
    assert client_for(manager).get(reverse("webhooks:detail", args=[subscription.integration_id + 1,
                                                                    subscription.pk])).status_code == 404
