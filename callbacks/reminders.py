"""Beat sweeps over callbacks: remind the owner of what is overdue (of a callback nobody owns: the triage owner or
every CSR), escalate what is twice overdue, and the technicians' evening briefing digest.

Each reminder's key names the callback, what is due (first contact, customer update, revisit, resolution, closure
call) and the due time, so every promise is reminded once however often the sweep runs, and a new promise (a new
update time agreed with the customer) is reminded afresh. Set-based: a fixed number of statements.
"""

from collections import defaultdict
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, CharField, F, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Concat, Left
from django.urls import reverse
from django.utils import timezone

from customers.models import Job
from recommendations.models import Recommendation
from servicedesk.bulk import SubqueryCount, url_of
from servicedesk.models import Notification
from servicedesk.notifications import managers, remind

from .business_clock import before
from .models import Callback
from .queues import triage_recipients
from .services import targets_with_clocks

State = Callback.State


def _what_is_due():
    """The label of the callback's clock (Callback.clock) in SQL: which promise due_at is."""
    return Case(
        When(state=State.RESOLVED, then=Value("closure call")),
        When(next_update_due_at=F("due_at"), then=Value("customer update")),
        When(state=State.NEW, then=Value("first contact")),
        When(state=State.REVISIT_DONE, then=Value("resolution")),
        default=Value("revisit"),
        output_field=CharField(),
    )


def _key(suffix):
    return Concat(Value("callback:"), "pk", Value(":"), _what_is_due(), Value(":"), Cast("due_at", CharField()),
                  Value(suffix), output_field=CharField())


def _text(lead):
    return Left(Concat(Value(lead), Value("callback #"), "pk", Value(" ("), "customer__name", Value("): "),
                       _what_is_due(), Value(" overdue"), output_field=CharField()), 300)


def remind_callback_owners(*, now=None):
    """Every open callback past its due time (first contact, customer update, revisit, resolution once the revisit
    is done, closure call) reminds its owner once per promise. One nobody owns (the triage queue's: from the
    feedback page, or its owner has left) reminds the triage owner, or every CSR when none is set, until one of
    them takes it."""
    now = now or timezone.now()
    overdue = Callback.objects.open().filter(due_at__lte=now)
    in_triage = overdue.in_triage()
    with transaction.atomic():
        inserted = remind(
            overdue.filter(assigned_to__is_active=True),
            recipient=F("assigned_to_id"),
            key=Concat(_key(":to:"), Cast("assigned_to_id", CharField()), output_field=CharField()),
            text=_text("Overdue: "),
            url=url_of("callbacks:detail"),
            kind=Notification.Kind.REMINDER,
            now=now,
        )
        for user_id in triage_recipients().values_list("pk", flat=True):
            inserted += remind(
                in_triage,
                recipient=Value(user_id),
                key=_key(f":to:{user_id}"),
                text=_text("Nobody owns it, take it: "),
                url=url_of("callbacks:detail"),
                kind=Notification.Kind.REMINDER,
                now=now,
            )
    return len(inserted)


def twice_overdue(now):
    """Overdue by as long again as the urgency's first-contact promise (1 hour for an emergency, a day for a
    normal one): the owner was reminded and nothing happened, so it is the managers' now."""
    condition = Q()
    targets, clocks = targets_with_clocks()
    for urgency, (first_contact_within, _revisit_within) in targets.items():
        # As long again on the target's own clock: a business-hours target is not twice overdue over a weekend.
        condition |= Q(urgency=urgency, due_at__lte=before(now, first_contact_within, calendar=clocks[urgency]))
    return Callback.objects.open().filter(condition)


def escalate_twice_overdue_callbacks(*, now=None):
    now = now or timezone.now()
    inserted = 0
    with transaction.atomic():
        late = twice_overdue(now)
        for manager_id in managers().values_list("pk", flat=True):
            inserted += len(remind(
                late,
                recipient=Value(manager_id),
                key=_key(f":escalated:to:{manager_id}"),
                text=_text("Twice overdue: "),
                url=url_of("callbacks:detail"),
                kind=Notification.Kind.ESCALATION,
                now=now,
            ))
    return inserted


# --- the evening briefing ---------------------------------------------------------------------------------------


def _visits_on(day):
    return Job.objects.on_day(day).filter(status=Job.Status.SCHEDULED)


def _assigned_to(jobs, user):
    return jobs.filter(Q(lead_technician=user) | Q(helpers=user))


def send_briefing_digests(*, now=None):
    """The evening before: each technician with visits tomorrow gets one digest of the open recommendations and
    callbacks at those customers, once per day."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    visits = _visits_on(tomorrow)
    technicians = get_user_model().objects.filter(is_active=True).filter(
        Q(pk__in=visits.values("lead_technician")) | Q(pk__in=Job.helpers.through.objects.filter(
            job__in=visits).values("user_id"))
    )

    def at_their_sites(queryset):
        sites = _assigned_to(visits, OuterRef(OuterRef("pk"))).values("site_id")
        return SubqueryCount(queryset.filter(site__in=sites).values("pk"))

    text = Concat(
        Value(f"Briefing for {tomorrow:%a %b %-d}: "),
        SubqueryCount(_assigned_to(visits, OuterRef("pk")).values("pk").distinct()), Value(" visits, "),
        at_their_sites(Recommendation.objects.open()), Value(" open recommendations, "),
        at_their_sites(Callback.objects.open()), Value(" open callbacks at those customers"),
        output_field=CharField(),
    )
    with transaction.atomic():
        ids = remind(
            technicians,
            recipient=F("pk"),
            key=Concat(Value(f"briefing:{tomorrow.isoformat()}:to:"), "pk", output_field=CharField()),
            text=Left(text, 300),
            url=Value(reverse("customers:job_list")),
            kind=Notification.Kind.BRIEFING,
            now=now,
            bodies=_digest_bodies(tomorrow),
        )
    return len(ids)


def _digest_bodies(day):
    """The digest e-mails, with every visit and what is open there: built only for the technicians whose digest
    was just inserted, in four queries, when the e-mails go after commit."""

    def build(technician_ids):
        visits = list(
            _visits_on(day).filter(Q(lead_technician__in=technician_ids) | Q(helpers__in=technician_ids))
            .distinct().with_related().prefetch_related("helpers").order_by("scheduled_start", "pk")
        )
        sites = {job.site_id for job in visits}
        recommendations = defaultdict(list)
        for recommendation in Recommendation.objects.open().filter(site__in=sites).order_by("pk"):
            recommendations[recommendation.site_id].append(recommendation)
        callbacks = defaultdict(list)
        for callback in Callback.objects.open().filter(site__in=sites).order_by("pk"):
            callbacks[callback.site_id].append(callback)
        lines = defaultdict(list)
        for job in visits:
            block = [f"{timezone.localtime(job.scheduled_start):%I:%M %p} — {job.get_kind_display()}, "
                     f"{job.customer.name}, {job.site.address}"]
            block += [f"  Open recommendation: {r.what} ({r.get_risk_display().lower()})"
                      for r in recommendations[job.site_id]]
            block += [f"  Open callback #{c.pk}: {c.problem[:120]}" for c in callbacks[job.site_id]]
            for technician in job.technicians:
                if technician.pk in technician_ids:
                    lines[technician.pk] += block
        return {
            technician_id: f"Your visits on {day:%A %B %-d}:\n\n" + "\n".join(lines[technician_id])
            + "\n\nRaise each open recommendation with the customer before you leave."
            for technician_id in technician_ids
        }

    return build
