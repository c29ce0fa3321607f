from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from customers.models import Job
from customers.pagination import CappedPaginator
from customers.services import job_complete
from servicedesk import roles
from servicedesk.audit import setting_changes
from servicedesk.forms import add_errors

from . import services
from .briefing import sections_for
from .forms import (
    AcceptForm,
    CompleteJobForm,
    DeclineForm,
    DeferForm,
    DiscussionForm,
    FollowUpIntervalFormSet,
    NewRecommendationFormSet,
    NoteForm,
    PassToSalesForm,
    RaiseWithPhotoForm,
    RecommendationFilter,
    RequiredNoteForm,
)
from .models import RISK_ORDER, Discussion, FollowUpInterval, Recommendation

VISIT_ROLES = (roles.TECHNICIAN, roles.CSR, roles.MANAGER)
PAGE_SIZE = 50


def _get_job_for_user(request, pk):
    """A job the user may brief or complete: a technician's own (lead or helper); any, for the office."""
    return get_object_or_404(Job.objects.visible_to(request.user).with_related(), pk=pk)


def _get_recommendation_for_user(request, pk):
    return get_object_or_404(Recommendation.objects.visible_to(request.user).with_related(), pk=pk)


def _can_manage(user, recommendation):
    """The owner works their recommendation through its lifecycle; the office may act on any."""
    return roles.is_office(user) or recommendation.owner_id == user.pk


def _risk_first():
    return Case(*[When(risk=risk, then=Value(rank)) for risk, rank in RISK_ORDER.items()], output_field=IntegerField())


def _briefing_recommendations(job):
    """Every outstanding recommendation at the job's site, with everything the briefing shows, in one query."""
    this_visit = Discussion.objects.filter(recommendation=OuterRef("pk"), job=job).order_by("-discussed_at", "-pk")
    return (
        Recommendation.objects.open()
        .for_site(job.site_id)
        .select_related("equipment", "owner", "raised_by")
        .with_visits_since_raised()
        .with_last_discussion()
        .annotate(
            this_visit_response=Subquery(this_visit.values("response")[:1]),
            this_visit_note=Subquery(this_visit.values("note")[:1]),
        )
        .order_by(_risk_first(), "created_at", "pk")
    )


def _safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next")
    # Only a path: redirect() would take anything else for the name of a view, and fail to find it.
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


@roles.role_required(*VISIT_ROLES)
def briefing(request, pk):
    """The technician's page before knocking: what is outstanding at this site and what the customer last said."""
    job = _get_job_for_user(request, pk)
    recommendations = list(_briefing_recommendations(job))
    past_visits = (
        Job.objects.filter(site=job.site_id, status=Job.Status.COMPLETED)
        .exclude(pk=job.pk)
        .select_related("lead_technician")
        .order_by("-completed_at")[:3]
    )
    context = {
        "job": job,
        "recommendations": recommendations,
        "past_visits": past_visits,
        "sections": sections_for(job),
        "responses": Discussion.Response.choices,
        "job_open": job.status in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS),
    }
    return render(request, "recommendations/briefing.html", context)


@require_POST
@roles.role_required(*VISIT_ROLES)
def discuss(request, job_pk, pk):
    """Mark one recommendation discussed on this visit (htmx swaps its card; without JS the page reloads)."""
    job = _get_job_for_user(request, job_pk)
    recommendation = get_object_or_404(Recommendation.objects.open().for_site(job.site_id), pk=pk)
    form = DiscussionForm(request.POST)
    error = ""
    if job.status not in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS):
        error = "This job is closed; discussions are recorded on an open visit."
    elif form.is_valid():
        try:
            services.recommendation_record_discussion(
                recommendation=recommendation,
                technician=request.user,
                response=form.cleaned_data["response"],
                note=form.cleaned_data["note"],
                job=job,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    if request.htmx:
        card = _briefing_recommendations(job).get(pk=recommendation.pk)
        context = {"job": job, "recommendation": card, "responses": Discussion.Response.choices, "job_open": True,
                   "error": error, "posted": request.POST}
        # 200 even with an error: htmx 2 does not swap 4xx responses, and the card must show the message.
        return render(request, "recommendations/_briefing_card.html", context)
    if error:
        messages.error(request, error)
    return redirect(_safe_next(request, reverse("recommendations:briefing", args=[job.pk])))


@roles.role_required(*VISIT_ROLES)
def raise_recommendation(request, job_pk):
    job = _get_job_for_user(request, job_pk)
    form = RaiseWithPhotoForm(request.POST or None, request.FILES or None, site=job.site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recommendation = services.recommendation_raise(
                site=job.site,
                raised_by=request.user,
                what=data["what"],
                why=data["why"],
                risk=data["risk"],
                equipment=data["equipment"],
                job=job,
                price_low=data["price_low"],
                price_high=data["price_high"],
                customer_acknowledged=data["customer_acknowledged"],
                photo=data["photo"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Recommendation raised: {recommendation.what}.")
            return redirect(_safe_next(request, reverse("recommendations:briefing", args=[job.pk])))
    context = {"job": job, "form": form, "next": _safe_next(request, "")}
    return render(request, "recommendations/raise.html", context)


@roles.role_required(*VISIT_ROLES)
def complete_job(request, pk):
    """Close the visit: work summary, the customer's answer on each open recommendation, new ones, signature."""
    job = _get_job_for_user(request, pk)
    if job.status not in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS):
        messages.info(request, f"This job is already {job.get_status_display().lower()}.")
        return redirect(job.get_absolute_url())
    recommendations = list(_briefing_recommendations(job))
    # Raised on this very visit, so it was discussed by being raised: listed, not asked about again.
    raised_today = [r for r in recommendations if r.raised_on_job_id == job.pk]
    data = request.POST if request.method == "POST" else None
    rows = []
    for recommendation in recommendations:
        if recommendation.raised_on_job_id == job.pk:
            continue
        initial = {"response": recommendation.this_visit_response, "note": recommendation.this_visit_note or ""}
        row = DiscussionForm(data, prefix=f"d{recommendation.pk}", initial=initial)
        # Already answered on this visit from the briefing: the row may be left as it is.
        row.fields["response"].required = recommendation.this_visit_response is None
        rows.append((recommendation, row))
    form = CompleteJobForm(data, initial={"summary": job.summary})
    new_formset = NewRecommendationFormSet(data, prefix="new", site=job.site)
    if request.method == "POST":
        valid = all([form.is_valid(), new_formset.is_valid(), *[row.is_valid() for _, row in rows]])
        if valid:
            discussions = [
                services.DiscussionInput(recommendation, row.cleaned_data["response"], row.cleaned_data["note"])
                for recommendation, row in rows
                if row.cleaned_data.get("response")
            ]
            new_recommendations = [
                {key: new.cleaned_data[key] for key in ("what", "why", "risk", "equipment", "price_low", "price_high")}
                for new in new_formset
                if new.has_changed() and new.cleaned_data.get("what")
            ]
            try:
                job_complete(
                    job=job,
                    completed_by=request.user,
                    summary=form.cleaned_data["summary"],
                    discussions=discussions,
                    new_recommendations=new_recommendations,
                    customer_acknowledged=form.cleaned_data["customer_acknowledged"],
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Job completed: {job.customer.name}.")
                return redirect("home")
    context = {"job": job, "form": form, "rows": rows, "raised_today": raised_today, "new_formset": new_formset}
    return render(request, "recommendations/complete.html", context)


@roles.role_required(*roles.ALL_ROLES)
def detail(request, pk):
    recommendation = _get_recommendation_for_user(request, pk)
    return _render_detail(request, recommendation)


def _render_detail(request, recommendation, *, bound=None, status=200):
    can_manage = _can_manage(request.user, recommendation)
    forms = {}
    if can_manage and recommendation.is_outstanding:
        forms = {name: spec[0](prefix=name) for name, spec in ACTIONS.items()}
        if bound is not None:
            forms[bound.prefix] = bound
    context = {
        "recommendation": recommendation,
        "events": recommendation.events.select_related("by"),
        "discussions": recommendation.discussions.select_related("technician", "job"),
        "can_manage": can_manage,
        "forms": forms,
    }
    return render(request, "recommendations/detail.html", context, status=status)


def _accept(recommendation, user, data):
    start = data["scheduled_start"]
    return services.recommendation_accept(
        recommendation=recommendation,
        by=user,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=float(data["hours"])),
        technician=data["technician"],
        note=data["note"],
    )


def _follow_up(recommendation, user, data):
    return services.recommendation_record_discussion(
        recommendation=recommendation, technician=user, response=data["response"], note=data["note"]
    )


# Lifecycle actions on the detail page: form, service call, and what the user is told afterwards.
ACTIONS = {
    "follow-up": (DiscussionForm, _follow_up, "Follow-up recorded."),
    "accept": (AcceptForm, _accept, "Accepted; the work is scheduled."),
    "defer": (DeferForm, lambda r, u, d: services.recommendation_defer(
        recommendation=r, by=u, until=d["until"], note=d["note"]), "Deferred."),
    "decline": (DeclineForm, lambda r, u, d: services.recommendation_decline(
        recommendation=r, by=u, reason=d["reason"]), "Marked declined."),
    "pass-to-sales": (PassToSalesForm, lambda r, u, d: services.recommendation_pass_to_sales(
        recommendation=r, by=u, to=d["to"], note=d["note"]), "Passed to sales."),
    "done-by-others": (NoteForm, lambda r, u, d: services.recommendation_mark_done_by_others(
        recommendation=r, by=u, note=d["note"]), "Marked done by someone else."),
    "failed-while-open": (NoteForm, lambda r, u, d: services.recommendation_mark_failed_while_open(
        recommendation=r, by=u, note=d["note"]), "Recorded as failed while open."),
    "withdraw": (RequiredNoteForm, lambda r, u, d: services.recommendation_withdraw(
        recommendation=r, by=u, note=d["note"]), "Withdrawn."),
    "reopen": (NoteForm, lambda r, u, d: services.recommendation_reopen(
        recommendation=r, by=u, note=d["note"]), "Reopened."),
}


@require_POST
@roles.role_required(*roles.ALL_ROLES)
def action(request, pk, name):
    recommendation = _get_recommendation_for_user(request, pk)
    if name not in ACTIONS:
        raise Http404
    if not _can_manage(request.user, recommendation):
        raise PermissionDenied
    form_class, perform, done = ACTIONS[name]
    form = form_class(request.POST, prefix=name)
    if form.is_valid():
        try:
            perform(recommendation, request.user, form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(recommendation.get_absolute_url())
    # Also as a message: the action's form may no longer be on the page (reopening one someone else just reopened).
    messages.error(request, "Nothing was changed: " + " ".join(e for errors in form.errors.values() for e in errors))
    recommendation.refresh_from_db()
    return _render_detail(request, recommendation, bound=form, status=400)


@roles.role_required(*roles.ALL_ROLES)
def photo(request, pk):
    recommendation = _get_recommendation_for_user(request, pk)
    if not recommendation.photo:
        raise Http404
    return FileResponse(recommendation.photo.open("rb"))


@roles.role_required(*roles.ALL_ROLES)
def my_follow_ups(request):
    """What the user owes a follow-up on, overdue first: technicians their own, sales the leads passed to them."""
    owed = (
        Recommendation.objects.owed_by(request.user)
        .select_related("customer", "site", "equipment")
        .with_last_discussion()
    )
    page = Paginator(owed, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "recommendations/mine.html", {"page": page})


@roles.role_required(*roles.OFFICE)
def recommendation_list(request):
    recommendations = (
        Recommendation.objects.with_related()
        .with_last_discussion()
        .order_by("next_follow_up_on", "pk")
    )
    recommendation_filter = RecommendationFilter(request.GET, queryset=recommendations)
    page = CappedPaginator(recommendation_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "recommendations/list.html", {"filter": recommendation_filter, "page": page})


@roles.role_required(roles.MANAGER)
def follow_up_intervals(request):
    formset = FollowUpIntervalFormSet(request.POST or None, queryset=FollowUpInterval.objects.order_by("days"))
    if request.method == "POST" and formset.is_valid():
        services.follow_up_intervals_set(
            # The rows there are (the formset is edit-only: extra forms posted by raising TOTAL_FORMS add nothing).
            days={form.instance.risk: form.cleaned_data["days"] for form in formset.initial_forms}, by=request.user
        )
        messages.success(request, "Follow-up intervals saved; they apply to recommendations raised from now on.")
        return redirect("recommendations:intervals")
    return render(request, "recommendations/intervals.html", {"formset": formset,
                                                             "changes": setting_changes("follow_up_intervals")})
