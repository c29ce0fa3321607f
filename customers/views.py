import secrets
from datetime import timedelta
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from servicedesk import roles

from . import importing, services
from .events import job_events
from .filters import CustomerFilter, JobFilter
from .forms import (
    AbusiveCallForm,
    AttemptFormSet,
    BookedJobForm,
    DecisionForm,
    ImportConfirmForm,
    ImportForm,
    LiftForm,
    ProposeForm,
)
from .history import customer_history, do_not_service_decisions
from .import_notes import import_notes
from .models import Customer, DoNotServiceDecision, Equipment, Job, Site
from .pagination import CappedPaginator

PAGE_SIZE = 25


def _get_customer_for_user(request, pk):
    """The customer, or 404 when the user may not see them (a technician off their schedule)."""
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


def _get_job_for_user(request, pk):
    jobs = Job.objects.visible_to(request.user).with_related().prefetch_related("helpers")
    return get_object_or_404(jobs, pk=pk)


@roles.role_required(*roles.ALL_ROLES)
def customer_list(request):
    customers = Customer.objects.visible_to(request.user).annotate(
        address=Subquery(Site.objects.filter(customer=OuterRef("pk")).order_by("pk").values("street")[:1]),
        city=Subquery(Site.objects.filter(customer=OuterRef("pk")).order_by("pk").values("city")[:1]),
        last_visit=Subquery(
            Job.objects.filter(customer=OuterRef("pk")).order_by("-scheduled_start").values("scheduled_start")[:1]
        ),
    )
    customer_filter = CustomerFilter(request.GET, queryset=customers)
    page = CappedPaginator(customer_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": customer_filter, "page": page, "query": request.GET.get("q", "")}
    if request.htmx and request.htmx.target == "customer-results":
        return render(request, "customers/_customer_results.html", context)
    return render(request, "customers/customer_list.html", context)


@roles.role_required(*roles.ALL_ROLES)
def customer_detail(request, pk):
    customer = _get_customer_for_user(request, pk)
    sites = customer.sites.prefetch_related(Prefetch("equipment", queryset=Equipment.objects.order_by("kind", "pk")))
    # The jobs the do-not-service card asks someone to decide on, cut to the jobs this user may see.
    upcoming = list(services.booked_jobs(customer).visible_to(request.user))
    context = {
        "customer": customer,
        "sites": sites,
        "upcoming_jobs": upcoming,
        "undecided_jobs": sum(1 for job in upcoming if job.kept_because is None),
        "history": customer_history(customer, limit=100),
        **_relationship_context(request, customer),
    }
    return render(request, "customers/customer_detail.html", context)


@roles.role_required(*roles.ALL_ROLES)
def job_list(request):
    jobs = Job.objects.visible_to(request.user).with_related().order_by("-scheduled_start", "-pk")
    job_filter = JobFilter(request.GET, queryset=jobs)
    page = CappedPaginator(job_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/job_list.html", {"filter": job_filter, "page": page})


@roles.role_required(*roles.ALL_ROLES)
def job_detail(request, pk):
    job = _get_job_for_user(request, pk)
    outcomes = job.do_not_service_outcomes.select_related("decided_by")
    return render(request, "customers/job_detail.html",
                  {"job": job, "events": job_events(job), "do_not_service_outcomes": outcomes})


# CSV import from the dispatch system: managers only. The uploaded file waits under MEDIA_ROOT/imports/ with a
# random name, known only to the uploader's session, between the preview and the "Import" button.

IMPORT_SESSION_KEY = "customers_import"
IMPORT_DIR = "imports"
IMPORT_ERRORS_SHOWN = 200
# Previews nobody confirmed are swept at the next upload.
STALE_IMPORT_AGE = timedelta(days=1)


def _import_page(request, form, *, errors=(), filename=""):
    context = {
        "form": form,
        "errors": errors[:IMPORT_ERRORS_SHOWN],
        "more_errors": max(0, len(errors) - IMPORT_ERRORS_SHOWN),
        "error_count": len(errors),
        "filename": filename,
        "kinds": importing.KINDS.values(),
    }
    return render(request, "customers/import.html", context)


def _discard_import_file(name):
    if name and default_storage.exists(name):
        default_storage.delete(name)


def _discard_stale_import_files():
    try:
        _, names = default_storage.listdir(IMPORT_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - STALE_IMPORT_AGE
    for name in names:
        path = f"{IMPORT_DIR}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)


@roles.role_required(roles.MANAGER)
def import_upload(request):
    if request.method != "POST":
        return _import_page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form)
    upload, kind = form.cleaned_data["file"], form.cleaned_data["kind"]
    data = upload.read()
    plan = importing.plan_import(kind=kind, data=data)
    if plan.errors:
        return _import_page(request, form, errors=plan.errors, filename=upload.name)
    _discard_stale_import_files()
    previous = request.session.get(IMPORT_SESSION_KEY)
    if previous:
        _discard_import_file(previous["name"])
    token = secrets.token_urlsafe(24)
    name = default_storage.save(f"{IMPORT_DIR}/{token}.csv", ContentFile(data))
    request.session[IMPORT_SESSION_KEY] = {"token": token, "name": name, "kind": kind, "filename": upload.name}
    context = {
        "plan": plan,
        "filename": upload.name,
        "counts": plan.counts,
        "total": len(plan.records),
        "noun": plan.kind.noun(len(plan.records)),
        "headers": [title for _, title, _ in plan.columns],
        "preview": plan.preview(),
        "notes": import_notes(plan, timezone.now()),
        "confirm_form": ImportConfirmForm(initial={"token": token}),
    }
    return render(request, "customers/import_preview.html", context)


@roles.role_required(roles.MANAGER)
@require_POST
def import_confirm(request):
    pending = request.session.get(IMPORT_SESSION_KEY)
    form = ImportConfirmForm(request.POST)
    if (
        not pending
        or not form.is_valid()
        or not secrets.compare_digest(form.cleaned_data["token"], pending["token"])
        or not default_storage.exists(pending["name"])
    ):
        messages.error(request, "That import is no longer waiting to be confirmed. Upload the file again.")
        return redirect("customers:import")
    with default_storage.open(pending["name"], "rb") as stored:
        data = stored.read()
    del request.session[IMPORT_SESSION_KEY]
    _discard_import_file(pending["name"])
    try:
        plan = importing.apply_import(kind=pending["kind"], data=data, by=request.user)
    except importing.ImportRejected as rejected:
        # The data changed since the preview (e.g. a referenced site was merged away): show why, like an upload.
        form = ImportForm(initial={"kind": pending["kind"]})
        return _import_page(request, form, errors=rejected.errors, filename=pending["filename"])
    messages.success(request, f"Imported {plan.summary()} from {pending['filename']}.")
    return redirect("customers:import")


@roles.role_required(roles.MANAGER)
def import_example(request, kind):
    if kind not in importing.KINDS:
        raise Http404("No such kind of import.")
    response = HttpResponse(importing.example_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-example.csv"'
    return response


# --- the relationship: reminder consent, calls ended for abuse, do-not-service (seed 002) ---------------------------


def _relationship_context(request, customer):
    """The customer page's relationship card: one query for the decision waiting or in force, for office staff."""
    if not roles.is_office(request.user):
        return {}
    live = [d for d in do_not_service_decisions(customer) if d.state in ("proposed", "approved")]
    decision = live[0] if live else None
    return {
        "live_decision": decision,
        "propose_form": ProposeForm(),
        "attempt_formset": AttemptFormSet(prefix="attempt"),
        "booked_job_form": BookedJobForm(),
        "decision_form": DecisionForm(),
        "lift_form": LiftForm(),
        "abusive_call_form": AbusiveCallForm(),
    }


def _done(request, customer, action, message):
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, message)
    return redirect(customer)


def _posted(form_class, request):
    """The form's cleaned values; the service says what is missing, as a message on the customer page."""
    form = form_class(request.POST)
    form.is_valid()
    return form.cleaned_data


@roles.role_required(*roles.OFFICE)
@require_POST
def reminders_set(request, pk):
    customer = _get_customer_for_user(request, pk)
    opt_in = request.POST.get("opt_in") == "yes"
    return _done(
        request, customer,
        lambda: services.customer_set_reminders(customer=customer, by=request.user, opt_in=opt_in),
        "Reminder e-mails turned on." if opt_in else "Reminder e-mails turned off.",
    )


@roles.role_required(*roles.OFFICE)
@require_POST
def abusive_call_record(request, pk):
    customer = _get_customer_for_user(request, pk)
    data = _posted(AbusiveCallForm, request)
    return _done(
        request, customer,
        lambda: services.abusive_call_record(
            customer=customer, by=request.user, warned=data.get("warned", False),
            what_happened=data.get("what_happened", ""),
        ),
        "Call ended for abuse recorded; it counts among the documented attempts.",
    )


@roles.role_required(*roles.OFFICE)
@require_POST
def do_not_service_propose(request, pk):
    customer = _get_customer_for_user(request, pk)
    data = _posted(ProposeForm, request)
    attempts = AttemptFormSet(request.POST, prefix="attempt")
    attempts.is_valid()
    return _done(
        request, customer,
        lambda: services.do_not_service_propose(
            customer=customer, by=request.user, reasons=data.get("reasons", ""),
            attempts=[form.cleaned_data for form in attempts.forms],
        ),
        "Do-not-service proposed; a manager will decide.",
    )


@roles.role_required(*roles.OFFICE)
@require_POST
def do_not_service_booked_job(request, pk, job_pk):
    """Keep or cancel one job booked before the customer was marked do-not-service."""
    customer = _get_customer_for_user(request, pk)
    job = get_object_or_404(Job, pk=job_pk, customer=customer)
    keep = request.POST.get("keep") == "yes"
    reason = _posted(BookedJobForm, request).get("reason", "")
    when = f"{timezone.localtime(job.scheduled_start):%b %-d}"
    return _done(
        request, customer,
        lambda: services.do_not_service_decide_booked_job(job=job, by=request.user, keep=keep, reason=reason),
        f"The job on {when} is kept." if keep else f"The job on {when} is cancelled.",
    )


def _decision(customer, decision_pk):
    return get_object_or_404(DoNotServiceDecision, pk=decision_pk, customer=customer)


@roles.role_required(roles.MANAGER)
@require_POST
def do_not_service_decide(request, pk, decision_pk):
    customer = _get_customer_for_user(request, pk)
    decision = _decision(customer, decision_pk)
    note = _posted(DecisionForm, request).get("note", "")
    approve = request.POST.get("approve") == "yes"
    service = services.do_not_service_approve if approve else services.do_not_service_decline
    message = (
        "Do-not-service approved. Decide each job already booked, listed under Upcoming jobs."
        if approve else "Do-not-service declined."
    )
    return _done(request, customer, partial(service, decision=decision, by=request.user, note=note), message)


@roles.role_required(roles.MANAGER)
@require_POST
def do_not_service_lift(request, pk):
    customer = _get_customer_for_user(request, pk)
    reason = _posted(LiftForm, request).get("reason", "")
    return _done(
        request, customer,
        lambda: services.do_not_service_lift(customer=customer, by=request.user, reason=reason),
        "Do-not-service lifted; the customer can be booked again.",
    )
