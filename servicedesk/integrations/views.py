"""Managers' pages for integrations and their API tokens."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from servicedesk import roles
from servicedesk.forms import add_errors

from . import services
from .forms import ApiTokenForm, IntegrationForm
from .intake.views import webhook_context
from .models import ApiToken, Integration


@roles.role_required(roles.MANAGER)
def integration_list(request):
    form = IntegrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            integration = services.integration_add(**form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{integration.name} added: issue it a token to use the API.")
            return redirect(integration)
    integrations = Integration.objects.order_by("name")
    return render(request, "integrations/list.html", {"integrations": integrations, "form": form})


# The token just issued waits in the session (server-side) for the page the issue redirects to, which takes it
# out: shown once, and a reload neither shows it again nor issues another.
ISSUED_KEY = "integrations_issued_token"


def _detail(request, integration, token_form):
    tokens = list(integration.tokens.select_related("created_by", "revoked_by"))
    issued = request.session.pop(ISSUED_KEY, None)
    if issued is not None:
        token = next((token for token in tokens if token.pk == issued["pk"]), None)
        issued = {"token": token, "secret": issued["secret"]} if token is not None else None
    return render(request, "integrations/detail.html", {
        "integration": integration, "tokens": tokens, "token_form": token_form, "issued": issued,
        "webhook": webhook_context(request, integration),
    })


@never_cache  # it may show a token itself, once: no browser or proxy may keep a copy
@roles.role_required(roles.MANAGER)
def integration_detail(request, pk):
    integration = get_object_or_404(Integration, pk=pk)
    return _detail(request, integration, ApiTokenForm())


@never_cache
@require_POST
@roles.role_required(roles.MANAGER)
def token_issue(request, pk):
    integration = get_object_or_404(Integration, pk=pk)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.api_token_issue(integration=integration, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            request.session[ISSUED_KEY] = {"pk": token.pk, "secret": secret}
            messages.success(request, f"Token {token.prefix}… issued for {token.label}.")
            return redirect(integration)
    return _detail(request, integration, form)


@require_POST
@roles.role_required(roles.MANAGER)
def token_revoke(request, pk, token_pk):
    token = get_object_or_404(ApiToken, pk=token_pk, integration_id=pk)
    if services.api_token_revoke(token=token, by=request.user):
        messages.success(request, f"Token {token.prefix}… revoked: it no longer works.")
    else:
        messages.info(request, f"Token {token.prefix}… was already revoked.")
    return redirect("integrations:detail", pk=pk)
