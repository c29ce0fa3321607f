"""Login throttling with django-axes: who is locked out, the page they see, and a manager lifting a lock-out.

A lock-out is per username AND address: a guesser hammering "csr" from one machine locks only that pair,
so the real CSR at the office still logs in and the guesser can't lock colleagues out from elsewhere.
One address trying many usernames (password spraying) is paused as a whole after LOGIN_FAILURES_PER_ADDRESS
failures, a limit set well above one person's typos so an office behind one address is not paused by them.
The password change's old-password check counts as a login attempt, so a borrowed session can't guess either.
A base module: it imports no app of the project. Its two pages live here beside their queries, as the
notifications pages do in notifications.py.
"""

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import roles

logger = logging.getLogger(__name__)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a login while its username and address are locked out; another backend checks the password.

    An authenticate() call without a request is not a login through a page (the test client's login(),
    the shell, a management command): there is no address to throttle, so it is passed on to the next
    backend instead of raising as axes' own backend does. Every page that logs people in passes its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def address_failures(ip_address, *, since=None):
    """Failed logins from `ip_address` within the cool-off, whatever the username."""
    since = since or timezone.now() - cool_off()
    attempts = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def address_locked_out(ip_address):
    return ip_address is not None and address_failures(ip_address) >= settings.LOGIN_FAILURES_PER_ADDRESS


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' own counting per username and address, plus the address as a whole across usernames.

    axes locks out when the failures it counts reach AXES_FAILURE_LIMIT; an address past its own, higher limit
    counts as at least that many, so axes refuses it (and shows the lock-out page) by its usual path.
    """

    def get_failures(self, request, credentials=None):
        failures = super().get_failures(request, credentials)
        if address_locked_out(getattr(request, "axes_ip_address", None)):
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures


class ThrottledPasswordChangeView(PasswordChangeView):
    """Changing one's password asks for the current one: a wrong answer is a failed login for axes."""

    def post(self, request, *args, **kwargs):
        if not AxesProxyHandler.is_allowed(request, self.credentials()):
            return lockout_response(request, credentials=self.credentials())
        return super().post(request, *args, **kwargs)

    def credentials(self):
        return {"username": self.request.user.get_username()}

    def form_invalid(self, form):
        if form.has_error("old_password"):
            # axes records the failure and, at the limit, flags the request for its middleware's lock-out page.
            user_login_failed.send(sender=type(self), credentials=self.credentials(), request=self.request)
        return super().form_invalid(form)


def client_ip_address(request):
    """The address a request came from: the one function axes and every throttle count by.

    Behind proxies REMOTE_ADDR is the nearest proxy for everyone, which would turn a per-address limit into a
    per-username one (or one shared by every customer). Each proxy appends the address it saw to
    X-Forwarded-For, so with TRUSTED_PROXY_COUNT proxies the client is that many entries from the right;
    everything further left is whatever the browser sent and may be forged. A header shorter than the chain, or
    an entry that is not an address, was not written by our proxies: REMOTE_ADDR is all that can be trusted then.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies < 1:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies or not forwarded[-proxies]:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote


def cool_off():
    return settings.AXES_COOLOFF_TIME


def minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (429), in the app's look, saying what happened and whom to ask."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "username": username,
        "address_paused": address_locked_out(getattr(request, "axes_ip_address", None)),
        "address_limit": settings.LOGIN_FAILURES_PER_ADDRESS,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": minutes(cool_off()),
    }
    return render(request, "registration/locked_out.html", context, status=429)


@dataclass(frozen=True)
class Lockout:
    username: str  # "" for an address paused whatever the username
    ip_address: str | None
    failures: int
    last_failure: datetime

    @property
    def locked_until(self):
        return self.last_failure + cool_off()


def current_lockouts():
    """Every username and address pair locked out right now, and every address paused as a whole, the most recent
    first (one query: an address's total across usernames is a subquery beside each pair's own count)."""
    since = timezone.now() - cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    address_total = (
        recent.filter(ip_address=OuterRef("ip_address"))
        .values("ip_address")
        .annotate(total=Sum("failures_since_start"))
        .values("total")
    )
    rows = (
        recent.values("username", "ip_address")
        .annotate(
            failures=Sum("failures_since_start"),
            last_failure=Max("attempt_time"),
            address_failures=Subquery(address_total),
        )
        .filter(Q(failures__gte=settings.AXES_FAILURE_LIMIT)
                | Q(address_failures__gte=settings.LOGIN_FAILURES_PER_ADDRESS))
        .order_by("-last_failure", "username")
    )
    lockouts, addresses = [], {}
    for row in rows:
        if row["address_failures"] >= settings.LOGIN_FAILURES_PER_ADDRESS:
            # One line for the address, however many usernames it tried.
            if row["ip_address"] not in addresses:
                addresses[row["ip_address"]] = Lockout("", row["ip_address"], row["address_failures"],
                                                       row["last_failure"])
                lockouts.append(addresses[row["ip_address"]])
            continue
        lockouts.append(Lockout(row["username"], row["ip_address"], row["failures"], row["last_failure"]))
    return lockouts


class LockoutLiftForm(forms.Form):
    username = forms.CharField(max_length=255, required=False)  # blank: the address, whatever the username
    ip_address = forms.GenericIPAddressField(required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("username") and not cleaned.get("ip_address"):
            raise forms.ValidationError("Choose a lock-out from the list.")
        return cleaned


def lockout_lift(*, username: str, ip_address: str | None, lifted_by) -> int:
    """Let `username` log in from `ip_address` again at once (every username, when `username` is blank); returns
    how many failure records were cleared.

    The record is the log line: who lifted which lock-out, and when (the log's timestamp).
    """
    with transaction.atomic():
        attempts = AccessAttempt.objects.all()
        if username:
            attempts = attempts.filter(username=username)
        attempts = attempts.filter(ip_address=ip_address) if ip_address else attempts.filter(ip_address__isnull=True)
        _, deleted = attempts.delete()
    cleared = deleted.get("axes.AccessAttempt", 0)
    if cleared:
        logger.warning(
            "Lock-out lifted: username=%s address=%s by %s (user id %s) at %s",
            repr(username) if username else "any",
            ip_address or "unknown",
            lifted_by.get_username(),
            lifted_by.pk,
            timezone.now().isoformat(),
        )
    return cleared


@roles.role_required(roles.MANAGER)
def lockout_list(request):
    """Managers: who is locked out of logging in right now, with a button to let each one back in."""
    return render(
        request,
        "servicedesk/lockouts.html",
        {
            "lockouts": current_lockouts(),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "address_limit": settings.LOGIN_FAILURES_PER_ADDRESS,
            "cool_off_minutes": minutes(cool_off()),
        },
    )


@require_POST
@roles.role_required(roles.MANAGER)
def lockout_unlock(request):
    form = LockoutLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That lock-out could not be found: choose one from the list.")
        return redirect("lockouts")
    username = form.cleaned_data["username"]
    ip_address = form.cleaned_data["ip_address"] or None
    who = username or "Anyone"
    if lockout_lift(username=username, ip_address=ip_address, lifted_by=request.user):
        messages.success(request, f"{who} can log in again from {ip_address or 'that address'}.")
    else:
        messages.info(request, f"{who} was no longer locked out from {ip_address or 'that address'}.")
    return redirect("lockouts")
