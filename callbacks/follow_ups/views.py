"""The follow-up call queue and the call screen, for CSRs and managers (seed 002)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from recommendations.models import Recommendation
from servicedesk import roles
from servicedesk.audit import setting_changes
from servicedesk.forms import add_errors

from . import services
from .forms import AttemptForm, CallbackFromCallForm, FollowUpRulesForm, LeadForm, ReferralForm
from .models import FollowUpCall

PAGE_SIZE = 25
# The script of the post-visit call (seed 002); the referral request is worded to invite, not to pressure.
SCRIPT = [
    "Any issues since the visit?",
    "Did we meet what you expected?",
    "Is there anything else we can do for you?",
    "Would you refer us to a neighbour or friend? It is a way to help grow our family with other great "
    "customers like you.",
    # No review question: the review link goes to every customer after every visit (customers/reviews.py), and
    # asking on the call, after hearing how it went, is where review gating starts.
]


def _get_call_for_user(request, pk):
    """The call, for office staff only (the decorator has checked the role; every call is the office's)."""
    queryset = FollowUpCall.objects.with_related().prefetch_related("job__helpers")
    return get_object_or_404(queryset, pk=pk)


@roles.role_required(*roles.OFFICE)
def call_queue(request):
    now = timezone.now()
    queue = FollowUpCall.objects.in_queue(now)
    page = Paginator(queue.with_related(), PAGE_SIZE).get_page(request.GET.get("page"))
    in_hand = FollowUpCall.objects.claimed_by(request.user, now).with_related().first()
    return render(request, "follow_ups/call_queue.html", {"page": page, "in_hand": in_hand, "now": now})


@roles.role_required(*roles.OFFICE)
@require_POST
def call_next(request):
    call = services.call_claim_next(by=request.user)
    if call is None:
        messages.info(request, "No follow-up call is due right now.")
        return redirect("callbacks:calls")
    return redirect(call)


def _call_context(request, call, **forms):
    now = timezone.now()
    is_mine = call.state == FollowUpCall.State.CLAIMED and call.claimed_by_id == request.user.pk
    held_by_other = call.is_held_by_other(request.user, now)
    # The script and the form are for the CSR on the call (or one whose posted form is shown again with its
    # errors); on a call nobody is on, the page offers to take it, so two people never fill it in at once.
    working = call.is_open and not held_by_other and (is_mine or "attempt_form" in forms)
    context = {
        "call": call,
        "now": now,
        "script": SCRIPT,
        "is_mine": is_mine,
        "held_by_other": held_by_other,
        "working": working,
        "is_free": call.is_open and not held_by_other and not working,
        "attempts": call.call_attempts.select_related("by"),
        "referrals": call.referrals.select_related("referred_customer"),
        "recommendations": Recommendation.objects.open().for_site(call.job.site_id).select_related("equipment"),
        "attempt_form": AttemptForm(),
        "callback_form": CallbackFromCallForm(initial={"problem": call.issues}),
        "lead_form": LeadForm(initial={"what": call.anything_else[:200]}),
        "referral_form": ReferralForm(),
        "max_attempts": settings.FOLLOW_UP_CALL_MAX_ATTEMPTS,
    }
    context.update(forms)
    return context


@roles.role_required(*roles.OFFICE)
def call_detail(request, pk):
    call = _get_call_for_user(request, pk)
    return render(request, "follow_ups/call_detail.html", _call_context(request, call))


@roles.role_required(*roles.OFFICE)
@require_POST
def call_claim(request, pk):
    """Opening a call from the list takes it when nobody is on it; when someone is, their call page says who."""
    call = _get_call_for_user(request, pk)
    try:
        services.call_claim(call=call, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("callbacks:calls")
    return redirect(call)


@roles.role_required(*roles.OFFICE)
@require_POST
def call_release(request, pk):
    call = _get_call_for_user(request, pk)
    try:
        services.call_release(call=call, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(call)
    messages.info(request, f"The call with {call.customer.name} is back in the queue.")
    return redirect("callbacks:calls")


@roles.role_required(*roles.OFFICE)
@require_POST
def call_record_attempt(request, pk):
    call = _get_call_for_user(request, pk)
    form = AttemptForm(request.POST)
    if form.is_valid():
        try:
            call = services.call_record_attempt(call=call, by=request.user, **form.service_arguments())
        except ValidationError as exc:
            add_errors(form, exc)
            if not hasattr(exc, "error_dict"):
                # Refused as a whole (someone else is on it, or it is finished): said at the top, over the call
                # as it is now, since the form is not shown to anyone but the CSR on the call.
                messages.error(request, "Nothing was recorded: " + " ".join(exc.messages))
                call = _get_call_for_user(request, pk)
        else:
            if call.state == FollowUpCall.State.DUE:
                when = timezone.localtime(call.next_attempt_at)
                messages.info(request, f"{call.get_outcome_display()}: the call comes back {when:%a %b %-d}.")
                return redirect("callbacks:calls")
            messages.success(request, f"Call recorded: {call.get_outcome_display().lower()}.")
            return redirect(call)
    return render(request, "follow_ups/call_detail.html", _call_context(request, call, attempt_form=form),
                  status=400)


def _one_click(request, pk, form_class, form_name, action):
    call = _get_call_for_user(request, pk)
    form = form_class(request.POST) if form_class else None
    if form is None or form.is_valid():
        try:
            result = action(call, form.cleaned_data if form else {})
        except ValidationError as exc:
            if form is None:
                messages.error(request, " ".join(exc.messages))
                return redirect(call)
            add_errors(form, exc)
        else:
            return result
    # Also as a message: these forms show only once the customer was reached, so the errors may have no form to sit on.
    messages.error(request, "Nothing was recorded: " + " ".join(e for errors in form.errors.values() for e in errors))
    return render(request, "follow_ups/call_detail.html", _call_context(request, call, **{form_name: form}),
                  status=400)


@roles.role_required(*roles.OFFICE)
@require_POST
def call_log_callback(request, pk):
    def log(call, data):
        callback = services.call_log_callback(call=call, by=request.user, problem=data["problem"],
                                           urgency=data["urgency"])
        messages.success(request, f"Callback #{callback.pk} logged from the follow-up call.")
        return redirect(callback)

    return _one_click(request, pk, CallbackFromCallForm, "callback_form", log)


@roles.role_required(*roles.OFFICE)
@require_POST
def call_raise_lead(request, pk):
    def raise_lead(call, data):
        lead = services.call_raise_lead(call=call, by=request.user, what=data["what"])
        messages.success(request, f"Lead raised: {lead.what}. It is in your follow-ups.")
        return redirect(call)

    return _one_click(request, pk, LeadForm, "lead_form", raise_lead)


@roles.role_required(*roles.OFFICE)
@require_POST
def call_record_referral(request, pk):
    def refer(call, data):
        referral = services.call_record_referral(call=call, by=request.user, **data)
        messages.success(request, f"Referral recorded: {referral.name} is a new customer to call.")
        return redirect(call)

    return _one_click(request, pk, ReferralForm, "referral_form", refer)


@roles.role_required(*roles.OFFICE)
def follow_up_rules(request):
    rules = services.follow_up_rules()
    form = FollowUpRulesForm(request.POST or None, rules=rules)
    can_edit = roles.has_role(request.user, roles.MANAGER)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.follow_up_rules_set(rules=form.cleaned_data, by=request.user)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Follow-up call rules saved. Calls already scheduled keep their time.")
                return redirect("callbacks:call_rules")
    return render(request, "follow_ups/call_rules.html", {"form": form, "can_edit": can_edit,
                                                         "changes": setting_changes("follow_up_rules")})
