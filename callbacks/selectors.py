"""Which job a callback is about, read for the log-a-callback page: the CSR finds it while the customer talks."""

from django.db.models import Q

from customers.models import Job, Site

# The jobs the form lists before the CSR searches: the recent ones are what customers call back about.
RECENT_JOBS = 10
# At most this many jobs match a search of the customer's jobs; the page asks for more words past it.
JOB_SEARCH_RESULTS = 25


def loggable_jobs(customer):
    """The customer's jobs a callback can be about: work started or done, newest first."""
    return (
        Job.objects.filter(customer=customer, status__in=[Job.Status.COMPLETED, Job.Status.IN_PROGRESS])
        .select_related("site", "equipment", "lead_technician")
        .order_by("-scheduled_start", "-pk")
    )


def jobs_matching(customer, text):
    """All of the customer's loggable jobs whose invoice number, address, equipment or work summary contains
    `text` (a year like "2023" matches the jobs of that year), newest first."""
    text = text.strip()
    found = (
        Q(invoice_number__icontains=text) | Q(site__street__icontains=text) | Q(site__city__icontains=text)
        | Q(equipment__make__icontains=text) | Q(equipment__model_number__icontains=text)
        | Q(equipment__kind__icontains=text) | Q(summary__icontains=text)
    )
    if text.isdigit() and len(text) == 4:
        found |= Q(scheduled_start__year=int(text))
    return loggable_jobs(customer).filter(found)


def _latest_completed(jobs):
    # A revisit is our own fix of an earlier callback, not what a customer calls back about.
    return (
        jobs.filter(status=Job.Status.COMPLETED).exclude(kind=Job.Kind.CALLBACK_REVISIT)
        .order_by("-completed_at", "-pk").first()
    )


def job_to_preselect(customer, *, job_id=None, site_id=None):
    """The job the form chooses for the CSR: the one the search matched (an invoice number names one job), else
    the latest completed job at the site the customer names (implied when they have one site). None when the
    customer has several sites and has not said which: the page asks.
    """
    jobs = loggable_jobs(customer)
    if job_id:
        job = jobs.filter(pk=job_id).first()
        if job is not None:
            return job
    if site_id:
        return _latest_completed(jobs.filter(site_id=site_id))
    if Site.objects.filter(customer=customer).count() == 1:
        return _latest_completed(jobs)
    return None
