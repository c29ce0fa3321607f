"""Managers' pages for an integration's webhook subscriptions, under the integration's page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from servicedesk import roles
from servicedesk.audit import setting_changes
from servicedesk.forms import add_errors
from servicedesk.integrations.models import Integration

from . import services
from .delivery import attempts_of
from .forms import ReplaySinceForm, SubscriptionForm
from .models import Delivery, Subscription

# The secret just generated waits in the session for the page the form redirects to, which takes it out: shown
# once, as a token is.
SECRET_KEY = "webhooks_new_secret"


def _get_subscription(integration_pk, pk):
    return get_object_or_404(Subscription.objects.select_related("integration"), pk=pk, integration_id=integration_pk)


@never_cache
@roles.role_required(roles.MANAGER)
def subscription_add(request, integration_pk):
    integration = get_object_or_404(Integration, pk=integration_pk)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = services.subscription_add(integration=integration, **form.cleaned_data,
                                                             by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            request.session[SECRET_KEY] = {"pk": subscription.pk, "secret": secret}
            messages.success(request, f"Webhooks to {subscription.label} added.")
            return redirect(subscription)
    return render(request, "webhooks/form.html", {"integration": integration, "form": form, "subscription": None})


@roles.role_required(roles.MANAGER)
def subscription_edit(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    initial = {"label": subscription.label, "url": subscription.url, "event_types": subscription.event_types}
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_change(subscription=subscription, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Subscription saved.")
            return redirect(subscription)
    return render(request, "webhooks/form.html", {
        "integration": subscription.integration, "form": form, "subscription": subscription,
    })


@never_cache  # it may show the secret, once
@roles.role_required(roles.MANAGER)
def subscription_detail(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    secret = request.session.pop(SECRET_KEY, None)
    secret = secret["secret"] if secret and secret["pk"] == subscription.pk else None
    return render(request, "webhooks/detail.html", {
        "integration": subscription.integration,
        "subscription": subscription,
        "secret": secret,
        "attempts": attempts_of(subscription),
        "waiting": Delivery.objects.pending().filter(subscription=subscription).count(),
        "replay_form": ReplaySinceForm(),
        "changes": setting_changes(subscription.setting_name),
        "overlap": subscription.previous_secret and subscription.previous_secret_until
        and subscription.previous_secret_until > timezone.now(),
    })


@require_POST
@roles.role_required(roles.MANAGER)
def subscription_test(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    services.subscription_send_test(subscription=subscription, by=request.user)
    messages.success(request, "Test event sent: its attempt shows below in a moment (reload).")
    return redirect(subscription)


@require_POST
@roles.role_required(roles.MANAGER)
def subscription_enable(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    waiting = services.subscription_enable(subscription=subscription, by=request.user)
    messages.success(request, f"Enabled: {waiting} waiting event{'s' if waiting != 1 else ''} sent now.")
    return redirect(subscription)


@require_POST
@roles.role_required(roles.MANAGER)
def subscription_disable(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    services.subscription_disable(subscription=subscription, by=request.user)
    messages.success(request, "Disabled: events wait until it is enabled again.")
    return redirect(subscription)


@require_POST
@roles.role_required(roles.MANAGER)
def subscription_rotate(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    secret = services.subscription_rotate_secret(subscription=subscription, by=request.user)
    request.session[SECRET_KEY] = {"pk": subscription.pk, "secret": secret}
    messages.success(request, "New secret made: both sign for 24 hours, time to give the receiver the new one.")
    return redirect(subscription)


@require_POST
@roles.role_required(roles.MANAGER)
def delivery_replay(request, integration_pk, pk, delivery_pk):
    subscription = _get_subscription(integration_pk, pk)
    delivery = get_object_or_404(Delivery.objects.select_related("event", "subscription"), pk=delivery_pk,
                                 subscription=subscription)
    services.delivery_replay(delivery=delivery, by=request.user)
    messages.success(request, f"{delivery.event.type} {delivery.event.webhook_id} sent again.")
    return redirect(subscription)


@require_POST
@roles.role_required(roles.MANAGER)
def replay_since(request, integration_pk, pk):
    subscription = _get_subscription(integration_pk, pk)
    form = ReplaySinceForm(request.POST)
    if form.is_valid():
        try:
            count = services.deliveries_replay_since(subscription=subscription, since=form.cleaned_data["since"],
                                                     by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{count} event{'s' if count != 1 else ''} sent again.")
    else:
        messages.error(request, "Choose the moment to send events again from.")
    return redirect(subscription)
