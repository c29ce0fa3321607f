"""Every write to integrations and their API tokens. Managers only: an integration can read every customer."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from callbacks.queues import triage_recipients
from callbacks.services import callback_log
from servicedesk import roles
from servicedesk.notifications import notify

from .models import ApiToken, Integration

TOKEN_PREFIX = "sd_"
# Recording every request's use would write a row per API call; once a minute (or a new address) is as useful.
USE_RECORDED_EVERY = timedelta(minutes=1)


def _require_manager(user):
    if not roles.has_role(user, roles.MANAGER):
        raise PermissionDenied("Only a manager manages integrations.")


def integration_add(*, name: str, kind: str, by) -> Integration:
    _require_manager(by)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the integration, e.g. the dispatch system it is."})
    if kind not in Integration.Kind.values:
        raise ValidationError({"kind": "Choose the kind of system."})
    with transaction.atomic():
        if Integration.objects.filter(name__iexact=name).exists():
            raise ValidationError({"name": "An integration already has this name."})
        return Integration.objects.create(name=name, kind=kind, created_by=by)


def api_token_issue(*, integration: Integration, label: str, scope: str, by) -> tuple[ApiToken, str]:
    """A new token for `integration`: the row, and the token itself, which is shown once and never stored."""
    _require_manager(by)
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "Say what will use this token."})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": "Choose read or read and write."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        integration=integration,
        label=label,
        scope=scope,
        prefix=secret[:10],
        digest=ApiToken.digest_of(secret),
        created_by=by,
    )
    return token, secret


def api_token_revoke(*, token: ApiToken, by, now=None) -> bool:
    """The token stops working at once; revoking it twice changes nothing. Returns whether it was active."""
    _require_manager(by)
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(
        revoked_at=now or timezone.now(), revoked_by=by
    ))


def api_token_record_use(*, token: ApiToken, address: str | None, now=None) -> None:
    """When and from where the token was last used, so a manager can tell a forgotten token from a live one."""
    now = now or timezone.now()
    if token.last_used_from == address and token.last_used_at and now - token.last_used_at < USE_RECORDED_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_from=address)
    token.last_used_at, token.last_used_from = now, address


def integration_account(integration: Integration):
    """The account an integration's writes are recorded as (a callback's "logged by"): inactive with no password,
    so nobody can sign in as it, and named after the integration so the history says where a record came from."""
    user, created = get_user_model().objects.get_or_create(
        username=f"integration-{integration.pk}",
        defaults={"first_name": integration.name[:150], "last_name": "(integration)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def callback_log_from_integration(*, integration: Integration, job, problem: str, channel: str, urgency: str):
    """A callback a phone system or a web form logs through the API: callback_log, as the CSR's page does (a repeat
    is caught and escalated the same way), into the office's triage queue, since no one here owns it yet."""
    with transaction.atomic():
        callback = callback_log(job=job, problem=problem, channel=channel, urgency=urgency,
                                logged_by=integration_account(integration), to_triage=True)
        notify(
            users=triage_recipients(),
            text=f"New callback from {integration.name}: {job.customer.name}, in the triage queue for a CSR to take.",
            url=callback.get_absolute_url(),
        )
    return callback
