"""The webhook endpoint, and a manager's actions on an integration's webhooks (its secret, retrying events)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from servicedesk import roles
from servicedesk.integrations.models import Integration

from . import services, tasks
from .models import MAX_BODY, InboxEvent, WebhookSecret


def _answer(status, **content):
    return JsonResponse(content, status=status)


@csrf_exempt  # signed by the dispatch system, not by a browser's session
@login_not_required
@require_POST
def hook(request, pk):
    """Stored first, answered at once (dispatch systems give up on a delivery after a second or two): 202 for a new
    event, 200 for one already stored; 404, 401, 413 and 400 store nothing."""
    secret = WebhookSecret.objects.filter(integration_id=pk).select_related("integration").first()
    if secret is None:
        return _answer(404, error="No webhook here.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        return _answer(413, error=f"The body is over {MAX_BODY:,} bytes.")
    try:
        body = request.body
    except RequestDataTooBig:
        return _answer(413, error=f"The body is over {MAX_BODY:,} bytes.")
    if len(body) > MAX_BODY:
        return _answer(413, error=f"The body is over {MAX_BODY:,} bytes.")
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        with transaction.atomic():
            event, created = services.inbox_store(integration=secret.integration, secret=secret.secret, body=body,
                                                  headers=headers)
            if created and event.state == InboxEvent.State.WAITING:
                tasks.hand_over([event.pk])
    except services.Refused as refused:
        return _answer(refused.status, error=str(refused))
    return _answer(202 if created else 200, event=event.event_id, state=event.state, duplicate=not created)


def webhook_context(request, integration, limit=50):
    """The webhook part of the integration's page: where to send, the secret, and the failed and waiting events
    (newest first, `limit` of them) for a manager to retry."""
    secret = WebhookSecret.objects.filter(integration=integration).select_related("set_by").first()
    events = list(InboxEvent.objects.needing_attention().filter(integration=integration)
                  .select_related("retried_by")[:limit])
    return {
        "url": request.build_absolute_uri(reverse("webhook_intake", args=[integration.pk])),
        "secret": secret,
        "events": events,
        "failed": sum(1 for event in events if event.state == InboxEvent.State.FAILED),
    }


@require_POST
@roles.role_required(roles.MANAGER)
def webhook_secret_set(request, pk):
    integration = get_object_or_404(Integration, pk=pk)
    try:
        services.webhook_secret_set(integration=integration, by=request.user, secret=request.POST.get("secret", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Webhook secret saved: the dispatch system must sign with it from now on.")
    return redirect(integration)


@require_POST
@roles.role_required(roles.MANAGER)
def event_retry(request, pk, event_pk):
    event = get_object_or_404(InboxEvent.objects.select_related("integration"), pk=event_pk, integration_id=pk)
    integration = event.integration
    with transaction.atomic():
        ids = services.inbox_retry(integration=integration, by=request.user, event_pk=event.pk)
        tasks.hand_over(ids)
    if ids:
        messages.success(request, "The event is queued to be processed again.")
    else:
        messages.info(request, "That event is not failed (it may have been retried already).")
    return redirect(integration)


@require_POST
@roles.role_required(roles.MANAGER)
def events_retry_all(request, pk):
    integration = get_object_or_404(Integration, pk=pk)
    with transaction.atomic():
        ids = services.inbox_retry(integration=integration, by=request.user)
        tasks.hand_over(ids)
    messages.success(request, f"{len(ids)} failed event{'s' if len(ids) != 1 else ''} queued to be processed again.")
    return redirect(integration)
