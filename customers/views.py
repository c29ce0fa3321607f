from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, Subquery
from django.shortcuts import get_object_or_404, render

from servicedesk import roles

from .filters import CustomerFilter, JobFilter
from .history import customer_history
from .models import Customer, Equipment, Job, Site

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
    page = Paginator(customer_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": customer_filter, "page": page, "query": request.GET.get("q", "")}
    if request.htmx and request.htmx.target == "customer-results":
        return render(request, "customers/_customer_results.html", context)
    return render(request, "customers/customer_list.html", context)


@roles.role_required(*roles.ALL_ROLES)
def customer_detail(request, pk):
    customer = _get_customer_for_user(request, pk)
    sites = customer.sites.prefetch_related(Prefetch("equipment", queryset=Equipment.objects.order_by("kind", "pk")))
    upcoming = (
        Job.objects.visible_to(request.user)
        .filter(customer=customer, status__in=[Job.Status.SCHEDULED, Job.Status.IN_PROGRESS])
        .with_related()
        .order_by("scheduled_start")
    )
    context = {
        "customer": customer,
        "sites": sites,
        "upcoming_jobs": upcoming,
        "history": customer_history(customer, limit=100),
    }
    return render(request, "customers/customer_detail.html", context)


@roles.role_required(*roles.ALL_ROLES)
def job_list(request):
    jobs = Job.objects.visible_to(request.user).with_related().order_by("-scheduled_start", "-pk")
    job_filter = JobFilter(request.GET, queryset=jobs)
    page = Paginator(job_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/job_list.html", {"filter": job_filter, "page": page})


@roles.role_required(*roles.ALL_ROLES)
def job_detail(request, pk):
    job = _get_job_for_user(request, pk)
    return render(request, "customers/job_detail.html", {"job": job})
