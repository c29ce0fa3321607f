"""Neutral review requests (issue 18): after every completed visit, the customer gets the company's review link.

The rule never reads a rating, a complaint or a follow-up call's answers: asking only satisfied customers is
"review gating" (Google's policy forbids selectively soliciting positive reviews; the FTC's 2024 rule targets
review suppression). Service recovery stays the follow-up call's and the callback's job, in parallel. The only
reasons not to ask are consent (opted out of contact, do-not-service, no address), the cooldown since the customer
was last asked, and a manager's pause; each skipped request is recorded with its reason, on the customer's page.

A beat sweep, set-based and idempotent (DESIGN.md principle 1): one INSERT ... SELECT decides every visit whose
request has fallen due, keyed by the unique job, so a second run or two at once decide each visit once. After
commit it e-mails the requests asked and not e-mailed yet (within a day), claiming each row before sending: a
request the mail server refused is sent by the next run, and none twice.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, CharField, DateTimeField, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from servicedesk import roles
from servicedesk.bulk import insert_from_select
from servicedesk.notifications import send_each, subject_line

from .import_notes import history_jobs
from .models import CompanySettings, Job, ReviewRequest, ReviewRequestSettings

Skipped = ReviewRequest.Skipped
# A request not decided within two weeks of falling due (the worker was down that long, or the visit was entered
# late) is stale: a review request weeks after the visit reads as spam, so the visit is never asked.
WINDOW = timedelta(days=14)
# A request whose e-mail the mail server refused is tried again by each run for a day, then left.
RESEND_WITHIN = timedelta(days=1)
SEND_BATCH = 2000


def review_requests_configure(*, by, review_url, days_after, channel, cooldown_days, paused, now=None):
    """Managers set the link, the delay, the channel, the cooldown and the pause; visits already decided stay so."""
    if not roles.has_role(by, roles.MANAGER):
        raise ValidationError("Only managers change how reviews are requested.")
    ReviewRequestSettings.objects.update_or_create(pk=1, defaults={
        "review_url": review_url, "days_after": days_after, "channel": channel, "cooldown_days": cooldown_days,
        "paused": paused, "updated_by": by, "updated_at": now or timezone.now(),
    })


def fallen_due(config, now):
    """Completed visits whose request has fallen due and is not decided yet.

    An imported visit whose request would have fallen due before the import (history) is never asked: that visit
    was the old system's to follow up, and asking every imported customer at once is a flood.
    """
    after = timedelta(days=config.days_after)
    return (
        Job.objects.filter(status=Job.Status.COMPLETED, completed_at__lte=now - after,
                           completed_at__gt=now - after - WINDOW)
        .filter(Q(external_id__isnull=True) | Q(completed_at__gt=F("created_at") - after))
        .exclude(Exists(ReviewRequest.objects.filter(job=OuterRef("pk"))))
    )


def import_note(plan, now):
    """The import preview's word on review requests for the history a jobs file brings in."""
    days = ReviewRequestSettings.current().days_after
    count = history_jobs(plan, now, lambda kind: days)
    if count:
        return (f"{count:,} of the new jobs were completed more than {days} days before this import: their customers "
                "get no review request for them (a review request is sent only for visits from now on).")
    return None


def _why_skipped(config, due, now):
    """Why each visit of `due` is not asked, as SQL ("" to ask): consent first, then the pause, then the cooldown."""
    reasons = [
        When(customer__contact_opt_out=True, then=Value(Skipped.OPTED_OUT)),
        When(customer__do_not_service=True, then=Value(Skipped.DO_NOT_SERVICE)),
        When(customer__email="", then=Value(Skipped.NO_ADDRESS)),
    ]
    if config.paused:
        reasons.append(When(pk__isnull=False, then=Value(Skipped.PAUSED)))
    asked_lately = ReviewRequest.objects.filter(
        customer=OuterRef("customer"), skipped="", created_at__gt=now - timedelta(days=config.cooldown_days)
    )
    # Two visits of one customer falling due in the same run: the first is asked, the second is in its cooldown.
    earlier_in_this_run = due.filter(customer=OuterRef("customer")).filter(
        Q(completed_at__lt=OuterRef("completed_at")) | Q(completed_at=OuterRef("completed_at"), pk__lt=OuterRef("pk"))
    )
    reasons += [
        When(Exists(asked_lately), then=Value(Skipped.COOLDOWN)),
        When(Exists(earlier_in_this_run), then=Value(Skipped.COOLDOWN)),
    ]
    return Case(*reasons, default=Value(""), output_field=CharField())


def send_review_requests(*, now=None):
    """Decide every visit whose review request has fallen due (asked, or skipped with why) and, after commit,
    e-mail the ones asked. Returns how many visits were decided."""
    now = now or timezone.now()
    config = ReviewRequestSettings.current()
    if not config.review_url:
        # Nothing to send yet: visits wait (within the window) rather than being skipped, so a company that sets its
        # link today asks the customers of the last days too.
        return 0
    with transaction.atomic():
        due = fallen_due(config, now)
        decided = due.annotate(review_skipped=_why_skipped(config, due, now))
        ids = insert_from_select(
            ReviewRequest,
            decided,
            values={
                "job_id": F("pk"),
                "customer_id": F("customer_id"),
                "technician_id": F("lead_technician_id"),
                "channel": Value(config.channel),
                "address": Case(When(review_skipped="", then=F("customer__email")), default=Value("")),
                "skipped": F("review_skipped"),
                "created_at": Value(now, output_field=DateTimeField()),
            },
            conflict=["job_id"],
            returning="id",
        )
        transaction.on_commit(lambda: send_review_emails(now=now))
    return len(ids)


def review_email(request, review_url):
    customer, job = request.customer, request.job
    company = CompanySettings.current()
    visit = f"on {timezone.localtime(job.completed_at):%B %-d}"
    if request.technician_id:
        visit += f" ({request.technician.get_full_name() or 'our technician'} was there)"
    lines = [
        f"Hello {customer.name},",
        "",
        f"Thank you for having us {visit}.",
        "",
        "Would you tell others how it went, in a review? Whatever your experience, we read every review, and "
        "it helps your neighbours choose:",
        "",
        review_url,
        "",
        f"And if anything is not right, call us at {company.hotline_or_company_phone}: we come back and make it "
        "right.",
        "",
        settings.COMPANY_NAME,
    ]
    return EmailMessage(
        subject=subject_line(f"{settings.COMPANY_NAME}: how did we do?"),
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[request.address],
    )


def send_review_emails(*, now=None):
    """E-mail the requests asked and not e-mailed yet (this run's, and those the mail server refused within a day)
    to customers who may still be contacted. Returns the e-mails the mail server took.

    The rows are claimed first (locked, skipping rows another run holds, and marked e-mailed), then each e-mail goes
    on its own, and the rows of the e-mails the server refused are released for the next run: nothing twice.
    """
    now = now or timezone.now()
    review_url = ReviewRequestSettings.current().review_url
    if not review_url:
        return 0
    with transaction.atomic():
        claimed = list(
            ReviewRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(skipped="", emailed_at__isnull=True, created_at__gte=now - RESEND_WITHIN)
            .filter(customer__contact_opt_out=False, customer__do_not_service=False)
            .select_related("customer", "job", "technician")
            .order_by("created_at", "pk")[:SEND_BATCH]
        )
        if not claimed:
            return 0
        ReviewRequest.objects.filter(pk__in=[request.pk for request in claimed]).update(emailed_at=timezone.now())
    taken = send_each([review_email(request, review_url) for request in claimed])
    unsent = [request.pk for request, sent in zip(claimed, taken, strict=True) if not sent]
    if unsent:
        ReviewRequest.objects.filter(pk__in=unsent).update(emailed_at=None)
    return taken.count(True)
