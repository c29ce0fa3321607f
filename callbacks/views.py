from datetime import date, timedelta
from itertools import chain

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.models import Customer, Job, Site
from customers.pagination import CappedPaginator
from customers.phones import phone_digits
from customers.services import customer_add
from servicedesk import roles
from servicedesk.audit import setting_changes
from servicedesk.forms import add_errors
from servicedesk.people import full_name_sql
from servicedesk.spreadsheets import csv_writer
from servicedesk.unchanged import render_unless_unchanged

from . import services
from .filters import CallbackFilter
from .forms import (
    CallbackLogForm,
    CloseForm,
    ContactForm,
    HandOffForm,
    NewCustomerForm,
    NoteForm,
    ReopenForm,
    ResolveForm,
    RevisitForm,
    StepForm,
    TrainingDoneForm,
    UrgencyTargetForm,
)
from .models import Callback, RecoveryStep, TrainingItem, Urgency, UrgencyTarget, checklist, with_jobs_and_people
from .selectors import JOB_SEARCH_RESULTS, RECENT_JOBS, job_to_preselect, jobs_matching, loggable_jobs
from .windows import outside_window

PAGE_SIZE = 25
SEARCH_RESULTS = 8
SITES_TO_ASK = 12  # past these, the CSR finds the address with the job search
STAFF = (roles.CSR, roles.MANAGER, roles.TECHNICIAN)


def _get_callback_for_user(request, pk):
    """The callback, or 404 when the user may not see it (a technician's are on their own jobs only)."""
    callbacks = (
        Callback.objects.visible_to(request.user)
        .with_related()
        .select_related("logged_by", "warranty_claim")
        .prefetch_related("job__helpers", "revisit_job__helpers")
    )
    return get_object_or_404(callbacks, pk=pk)


def _is_fixer(user, callback):
    job = callback.revisit_job
    return job is not None and user in job.technicians


def _permissions(user, callback):
    office = roles.is_office(user)
    return {
        "can_manage": office,
        "can_resolve": office or _is_fixer(user, callback),
        # A technician on the job records site visits and the steps done with the customer on site.
        "can_contact": True,
        "can_train": roles.has_role(user, roles.MANAGER),
    }


# --- logging a callback -------------------------------------------------------------------------------------------


def _customer_from(value):
    if value and str(value).isdigit():
        return Customer.objects.filter(pk=value).first()
    return None


def _search_customers(query):
    sites = Site.objects.filter(customer=OuterRef("pk")).order_by("pk")
    # The site the search matched by its address, and the job it matched by its invoice number: the page opens
    # the customer with that job (or that site's latest job) chosen, not merely the customer's latest.
    matched_site = sites.filter(street__icontains=query)
    matched_job = Job.objects.filter(customer=OuterRef("pk"), invoice_number__iexact=query).order_by(
        "-scheduled_start", "-pk")
    return (
        Customer.objects.search(query)
        .annotate(
            matched_site=Subquery(matched_site.values("pk")[:1]),
            matched_job=Subquery(matched_job.values("pk")[:1]),
            street=Coalesce(Subquery(matched_site.values("street")[:1]), Subquery(sites.values("street")[:1])),
            city=Coalesce(Subquery(matched_site.values("city")[:1]), Subquery(sites.values("city")[:1])),
        )
        .order_by("name", "pk")[:SEARCH_RESULTS]
    )


def _looks_like_phone(query):
    digits = phone_digits(query)
    return len(digits) >= 7 and len(digits) >= len(query.replace(" ", "")) // 2


def _id(value):
    """An id from the query string, or None for anything that is not one (text, or a number no id reaches)."""
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) <= 18 else None


def _job_choices(request, customer):
    """The jobs the log form lists, the one it chooses, and the job search as the page shows it."""
    jobs = loggable_jobs(customer)
    # PostgreSQL refuses a NUL in a string: nobody types one, so it is dropped rather than answered with a 500.
    job_query = request.GET.get("job_q", "").replace("\x00", "").strip()
    if job_query:
        found = list(jobs_matching(customer, job_query)[:JOB_SEARCH_RESULTS + 1])
        listed = found[:JOB_SEARCH_RESULTS]
    else:
        found = None
        listed = list(jobs[:RECENT_JOBS])
    picked = job_to_preselect(customer, job_id=_id(request.GET.get("job")), site_id=_id(request.GET.get("site")))
    if found is not None and picked not in listed:
        picked = None  # the CSR is looking for another job: list only what the search found
    job_search = {
        "query": job_query,
        "count": jobs.count(),
        "found": len(listed) if found is not None else None,
        "more": found is not None and len(found) > JOB_SEARCH_RESULTS,
        # Several addresses and no job chosen: the page asks which address the call is about.
        "sites": [] if picked is not None else list(customer.sites.order_by("pk")[:SITES_TO_ASK]),
    }
    return listed, picked, job_search


def _log_context(request, *, customer, form, new_customer_form=None, job_search=None):
    # A NUL cannot be in a PostgreSQL string: it is no part of any name, number or address, so it is dropped.
    query = request.GET.get("q", "").replace("\x00", "").strip()
    likely = form.fields["job"].initial
    likely_job = next((job for job in form.jobs if job.pk == likely), None)
    return {
        "job_search": job_search,
        "query": query,
        "results": _search_customers(query) if query and customer is None else None,
        "phone_query": _looks_like_phone(query) if query else False,
        "customer": customer,
        "form": form,
        "new_customer_form": new_customer_form or NewCustomerForm(
            prefix="new", initial={"phone": query} if query and _looks_like_phone(query) else None
        ),
        "repeat_of": services.find_repeat_of(likely_job) if likely_job else None,
    }


@roles.role_required(*roles.OFFICE)
def callback_new(request):
    """The CSR's page while the customer is on the line: find, pick the job, the problem, one submit."""
    customer = _customer_from(request.POST.get("customer") or request.GET.get("customer"))
    jobs, picked, job_search = _job_choices(request, customer) if customer is not None else (None, None, None)
    choices = {"jobs": jobs, "picked": picked, "has_jobs": bool(job_search and job_search["count"])}
    new_customer_form = None
    if request.method == "POST" and "new-name" in request.POST:
        new_customer_form = NewCustomerForm(request.POST, prefix="new")
        if new_customer_form.is_valid():
            customer = customer_add(**new_customer_form.cleaned_data)
            messages.success(request, f"Added {customer.name}. Now pick the job the callback is about.")
            return redirect(f"{reverse('callbacks:new')}?customer={customer.pk}")
        form = CallbackLogForm(customer=customer, **choices)
    elif request.method == "POST":
        form = CallbackLogForm(request.POST, customer=customer, jobs=jobs, has_jobs=choices["has_jobs"])
        if form.is_valid():
            data = form.cleaned_data
            try:
                callback = services.callback_log(
                    job=data["job"], problem=data["problem"], channel=data["channel"], urgency=data["urgency"],
                    logged_by=request.user, potential=data["is_callback"] == "potential",
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                text = f"Callback #{callback.pk} logged for {callback.customer.name}."
                if callback.is_repeat:
                    text += " It is a repeat: the managers have been told."
                messages.success(request, text)
                return redirect(callback)
    else:
        form = CallbackLogForm(customer=customer, **choices)
    if request.method == "POST":
        # Said at the top too: without a customer the log form is not on the page to show its errors.
        found = customer is not None or new_customer_form is not None
        messages.error(request, "Nothing was saved: " + ("see below." if found else "find the customer first."))
    context = _log_context(request, customer=customer, form=form, new_customer_form=new_customer_form,
                           job_search=job_search)
    if request.htmx and request.htmx.target == "customer-results":
        return render(request, "callbacks/_customer_results.html", context)
    if request.htmx and request.htmx.target == "job-choices" and customer is not None:
        return render(request, "callbacks/_job_choices.html", context)
    return render(request, "callbacks/callback_new.html", context)


@roles.role_required(*roles.OFFICE)
def repeat_check(request):
    """htmx: the repeat warning for the job just picked, before the callback is saved."""
    job_id = request.GET.get("job", "")
    job = Job.objects.filter(pk=job_id).first() if job_id.isdigit() else None
    repeat_of = services.find_repeat_of(job) if job is not None else None
    note = outside_window(job)
    # The confirmed / potential choice is swapped in too, proposing potential outside the job's recall window.
    form = CallbackLogForm(initial={"is_callback": "potential" if note else "confirmed"})
    return render(request, "callbacks/_repeat_warning.html", {"repeat_of": repeat_of, "picked_job": job,
                                                              "recall_note": note, "form": form, "swap": True})


# --- lists --------------------------------------------------------------------------------------------------------


def _list_page(request, callbacks, *, title, seen_by, with_filter=True):
    """`seen_by` names who sees the same `callbacks`: a user's id, or "office" for the whole office."""
    callback_filter = CallbackFilter(request.GET or None, queryset=callbacks) if with_filter else None

    def render_filter():
        return render_to_string("callbacks/_callback_filter.html", {"filter": callback_filter}, request)

    def render_results():
        queryset = callback_filter.qs if with_filter else callbacks.open()
        page = CappedPaginator(queryset.for_rows().overdue_first(), PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = with_jobs_and_people(page.object_list)
        return render_to_string("callbacks/_callback_results.html", {"page": page}, request)

    # Both are the same for every view of this path and query string (and the rows for everyone who sees the same
    # callbacks) until a write commits, or the minute changes (servicedesk/unchanged.py).
    path = request.get_full_path()
    results = render_unless_unchanged(render_results, "callback results", seen_by, path)
    if request.htmx and request.htmx.target == "callback-results":
        return HttpResponse(results)
    filter_form = render_unless_unchanged(render_filter, "callback filter", path) if with_filter else ""
    return render(request, "callbacks/callback_list.html",
                  {"filter_form": filter_form, "results": results, "title": title})


@roles.role_required(*STAFF)
def callback_list(request):
    callbacks = Callback.objects.visible_to(request.user)
    if roles.is_office(request.user):
        return _list_page(request, callbacks, title="Callbacks", seen_by="office")
    return _list_page(request, callbacks, title="Callbacks on my jobs", seen_by=request.user.pk)


@roles.role_required(*STAFF)
def my_callbacks(request):
    if roles.is_office(request.user):
        callbacks = Callback.objects.filter(assigned_to=request.user)
    else:
        callbacks = Callback.objects.for_technician(request.user)
    return _list_page(request, callbacks, title="My callbacks", seen_by=request.user.pk, with_filter=False)


# --- the callback page and its actions ----------------------------------------------------------------------------


def _auto_id(form_name):
    """The callback page holds a dozen forms, several with a `note`: each form's ids carry its name, so every label
    focuses its own field (id_acknowledge_note, id_hand_off_note)."""
    return f"id_{form_name.removesuffix('_form')}_%s"


def _training_auto_id(item):
    return f"id_training_{item.pk}_%s"


def _detail_context(request, callback, **bound_forms):
    user = request.user
    now = timezone.now()
    steps = list(callback.recovery_steps.select_related("done_by"))
    caused_by = callback.job.technicians
    next_hour = (timezone.localtime(now) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    forms = {
        "acknowledge_form": NoteForm(auto_id=_auto_id("acknowledge_form")),
        "revisit_form": RevisitForm(initial={"start": next_hour}, auto_id=_auto_id("revisit_form")),
        "resolve_form": ResolveForm(caused_by=caused_by, auto_id=_auto_id("resolve_form")),
        "close_form": CloseForm(auto_id=_auto_id("close_form")),
        "reopen_form": ReopenForm(auto_id=_auto_id("reopen_form")),
        "hand_off_form": HandOffForm(auto_id=_auto_id("hand_off_form")),
        "contact_form": ContactForm(auto_id=_auto_id("contact_form")),
        "step_form": StepForm(auto_id=_auto_id("step_form")),
    }
    forms.update(bound_forms)
    training_items = list(callback.training_items.select_related("technician"))
    bound = bound_forms.get("training_form")
    for item in training_items:  # a form per item: one per technician it names, each with its own ids
        auto_id = _training_auto_id(item)
        item.done_form = bound if bound is not None and bound.auto_id == auto_id else TrainingDoneForm(auto_id=auto_id)
    return {
        "callback": callback,
        "clock": callback.clock(now),
        "now": now,
        "events": callback.events.select_related("by", "job"),
        "checklist": checklist(callback, steps),
        "skipped": [label for _, label, status, _ in checklist(callback, steps) if status == "skipped"],
        "caused_by": caused_by,
        "fixed_by": callback.revisit_job.technicians if callback.revisit_job else [],
        "training_items": training_items,
        # Read only where the page shows the cost (a resolved callback).
        "revisit_costs": callback.revisit_costs.select_related("revisit_job"),
        "other_work_step": RecoveryStep.Step.OTHER_WORK,
        **_permissions(user, callback),
        **forms,
    }


@roles.role_required(*STAFF)
def callback_detail(request, pk):
    callback = _get_callback_for_user(request, pk)
    return render(request, "callbacks/callback_detail.html", _detail_context(request, callback))


def _act(request, pk, *, form_class, form_name, perform, allowed, success, form_kwargs=None):
    """Run one action from the callback page: a refused transition comes back as a message, bad input as a form
    with its errors on the page."""
    callback = _get_callback_for_user(request, pk)
    if not allowed(request.user, callback):
        raise PermissionDenied
    kwargs = form_kwargs(callback) if form_kwargs else {}
    form = form_class(request.POST, **{"auto_id": _auto_id(form_name), **kwargs})
    if form.is_valid():
        try:
            perform(callback, form.cleaned_data)
        except services.TransitionRefused as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(callback)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(callback)
    messages.error(request, "Nothing was changed: see the form below.")
    context = _detail_context(request, callback, **{form_name: form})
    context["open_form"] = form_name
    return render(request, "callbacks/callback_detail.html", context)


def _office(user, callback):
    return roles.is_office(user)


def _anyone_who_sees_it(user, callback):
    return True


@require_POST
@roles.role_required(*STAFF)
def callback_acknowledge(request, pk):
    return _act(
        request, pk, form_class=NoteForm, form_name="acknowledge_form", allowed=_office,
        perform=lambda cb, data: services.callback_acknowledge(callback=cb, by=request.user, note=data["note"]),
        success="Acknowledged: the first contact is recorded.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_schedule_revisit(request, pk):
    return _act(
        request, pk, form_class=RevisitForm, form_name="revisit_form", allowed=_office,
        perform=lambda cb, data: services.callback_schedule_revisit(
            callback=cb, by=request.user, technician=data["technician"], start=data["start"], end=data["end"],
            no_charge=data["no_charge"], note=data["note"],
        ),
        success="Revisit scheduled.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_resolve(request, pk):
    return _act(
        request, pk, form_class=ResolveForm, form_name="resolve_form",
        allowed=lambda user, cb: roles.is_office(user) or _is_fixer(user, cb),
        form_kwargs=lambda cb: {"caused_by": cb.job.technicians},
        perform=lambda cb, data: services.callback_resolve(
            callback=cb, by=request.user, root_cause=data["root_cause"], resolution=data["resolution"],
            faulty_part=data["faulty_part"], part_supplier=data["part_supplier"], rma_reference=data["rma_reference"],
            labour_hours=data["labour_hours"], parts_cost=data["parts_cost"],
            responsible_technician=data["responsible_technician"],
        ),
        success="Resolved. The closure call to the customer is now due.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_close(request, pk):
    def perform(cb, data):
        services.callback_close(callback=cb, by=request.user, confirmed=data["outcome"] == "fixed", note=data["note"])

    return _act(
        request, pk, form_class=CloseForm, form_name="close_form", allowed=_office, perform=perform,
        success="Closure call recorded.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_reopen(request, pk):
    return _act(
        request, pk, form_class=ReopenForm, form_name="reopen_form", allowed=_office,
        perform=lambda cb, data: services.callback_reopen(callback=cb, by=request.user, reason=data["reason"]),
        success="Reopened. Schedule a new revisit; the managers have been told.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_hand_off(request, pk):
    return _act(
        request, pk, form_class=HandOffForm, form_name="hand_off_form", allowed=_office,
        perform=lambda cb, data: services.callback_hand_off(
            callback=cb, by=request.user, to_user=data["to_user"], warm=data["warm"], note=data["note"],
        ),
        success="Handed off.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_record_contact(request, pk):
    return _act(
        request, pk, form_class=ContactForm, form_name="contact_form", allowed=_anyone_who_sees_it,
        perform=lambda cb, data: services.callback_record_contact(
            callback=cb, by=request.user, kind=data["kind"], summary=data["summary"],
            next_update_due_at=data["next_update_due_at"],
        ),
        success="Contact recorded.",
    )


@require_POST
@roles.role_required(*STAFF)
def callback_check_step(request, pk):
    return _act(
        request, pk, form_class=StepForm, form_name="step_form", allowed=_anyone_who_sees_it,
        perform=lambda cb, data: services.callback_check_recovery_step(
            callback=cb, by=request.user, step=data["step"], note=data["note"], answer_yes=data["answer_yes"],
            other_work=data["other_work"],
        ),
        success="Step checked.",
    )


@require_POST
@roles.role_required(roles.MANAGER)
def training_item_done(request, pk, item_pk):
    callback = _get_callback_for_user(request, pk)
    item = get_object_or_404(TrainingItem, pk=item_pk, callback=callback)
    return _act(
        request, pk, form_class=TrainingDoneForm, form_name="training_form", allowed=_office,
        form_kwargs=lambda cb: {"auto_id": _training_auto_id(item)},
        perform=lambda cb, data: services.training_item_complete(item=item, by=request.user, lesson=data["lesson"]),
        success="Training item done.",
    )


# --- urgency targets ----------------------------------------------------------------------------------------------


@roles.role_required(roles.MANAGER)
def urgency_targets(request):
    current, clocks = services.targets_with_clocks()
    rows = []
    for urgency, label in Urgency.choices:
        first, revisit = current[urgency]
        initial = {"first_contact_hours": round(first.total_seconds() / 3600, 2),
                   "revisit_hours": round(revisit.total_seconds() / 3600, 2),
                   "clock": "around" if clocks[urgency] is None else "business"}
        data = request.POST if request.method == "POST" else None
        rows.append((urgency, label, UrgencyTargetForm(data, prefix=urgency, initial=initial)))
    if request.method == "POST":
        if all(form.is_valid() for _, _, form in rows):
            try:
                services.urgency_targets_set(
                    targets={urgency: form.durations() for urgency, _, form in rows}, by=request.user,
                    business_hours={urgency: form.cleaned_data["clock"] == "business"
                                    for urgency, _, form in rows if form.cleaned_data["clock"]},
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Urgency targets saved. Callbacks logged from now on use them.")
                return redirect("callbacks:targets")
        else:
            messages.error(request, "Nothing was changed: see the form below.")
    updated = UrgencyTarget.objects.select_related("updated_by").order_by("-updated_at").first()
    return render(request, "callbacks/urgency_targets.html", {"rows": rows, "updated": updated,
                                                              "changes": setting_changes("urgency_targets")})


# --- export ---------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    ("Callback", "pk"),
    ("Logged", "logged_at"),
    ("Customer", "customer__name"),
    ("Street", "site__street"),
    ("City", "site__city"),
    ("Original invoice", "job__invoice_number"),
    ("Original job kind", "job__kind"),
    ("Caused by (lead)", full_name_sql("job__lead_technician")),
    ("Channel", "channel"),
    ("Urgency", "urgency"),
    ("Status", "state"),
    ("Repeat", "is_repeat"),
    ("First contact due", "first_contact_due_at"),
    ("Acknowledged", "acknowledged_at"),
    ("Revisit", "revisit_job__scheduled_start"),
    ("Fixed by (lead)", full_name_sql("revisit_job__lead_technician")),
    ("Classification", "classification"),
    ("Classified", "classified_at"),
    ("Root cause", "root_cause"),
    ("Warranty claim", "warranty_claim__status"),
    ("Warranty credit received", "warranty_claim__credit_received"),
    ("Faulty part", "faulty_part"),
    ("RMA", "rma_reference"),
    ("Labour hours", "labour_hours"),
    ("Parts cost", "parts_cost"),
    ("Resolved", "resolved_at"),
    ("Closed", "closed_at"),
    ("Problem (customer's words)", "problem"),
]


@roles.role_required(*roles.OFFICE)
def callback_export(request):
    """Every callback logged in a date range (default: the last 12 months) matching the list's filters, as CSV.

    Streamed from a server-side cursor: memory stays flat whether the range holds a hundred callbacks or 60,000.
    """
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("state", "all")
    callback_filter = CallbackFilter(data, queryset=Callback.objects.visible_to(request.user))
    callbacks = callback_filter.qs
    try:
        logged_from = date.fromisoformat(request.GET.get("logged_from") or str(today - timedelta(days=365)))
        logged_to = date.fromisoformat(request.GET.get("logged_to") or str(today))
    except ValueError:
        messages.error(request, "Dates must look like 2026-11-23.")
        return redirect("callbacks:list")
    callbacks = callbacks.filter(logged_at__date__gte=logged_from, logged_at__date__lte=logged_to)
    callbacks = callbacks.order_by("logged_at", "pk")
    rows = callbacks.values_list(*(field for _, field in EXPORT_COLUMNS)).iterator(chunk_size=2000)
    writer = csv_writer()
    lines = chain([writer.writerow([label for label, _ in EXPORT_COLUMNS])], (writer.writerow(row) for row in rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="callbacks-{logged_from}-to-{logged_to}.csv"'
    return response
