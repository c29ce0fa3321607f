"""Every write to recommendations: raise, discuss, the lifecycle moves, and what completing a job requires of them.

Each function is one action, keyword-only, atomic; each state change writes a RecommendationEvent with who,
when, from and to. Bad input raises ValidationError and changes nothing.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from customers.models import Job
from customers.services import ensure_bookable, job_book
from servicedesk import notifications, roles
from servicedesk.audit import Via, setting_changes_record
from servicedesk.outbox import emit

from .models import Discussion, FollowUpInterval, LaterVisitsCount, Recommendation, RecommendationEvent, Risk

State = Recommendation.State
Response = Discussion.Response
_COUNT_LATER_VISITS_LOCK = 0x5D_0B_0A_4E  # pg_advisory_xact_lock key of recommendation_count_later_visits
RECOUNT_DAYS = 3  # how far back a visit entered late (an import, an edit) is picked up by the next count
# The moves other systems are told of (servicedesk/outbox.py), by whichever service makes them.
EVENT_OF_STATE = {
    State.ACCEPTED: "recommendation.accepted",
    State.DECLINED: "recommendation.declined",
    State.FAILED_WHILE_OPEN: "recommendation.failed_while_open",
}


@dataclass(frozen=True)
class DiscussionInput:
    """What the technician recorded for one open recommendation on the completion page."""

    recommendation: Recommendation
    response: str
    note: str = ""


def _next_follow_up(risk, *, today=None):
    return (today or timezone.localdate()) + timedelta(days=FollowUpInterval.days_for(risk))


def _locked(recommendation):
    """Re-read the row under a lock so two people acting at once cannot both move it from the same state."""
    return Recommendation.objects.select_for_update().get(pk=recommendation.pk)


def _move(recommendation, *, to_state, by, note="", **changes):
    if not recommendation.can_move_to(to_state):
        raise ValidationError(
            f"A recommendation that is {recommendation.get_state_display().lower()} cannot become "
            f"{State(to_state).label.lower()}."
        )
    from_state = recommendation.state
    now = timezone.now()
    recommendation.state = to_state
    recommendation.state_changed_at = now
    if to_state not in Recommendation.OUTSTANDING_STATES:
        # Nothing more is owed on a closed recommendation; "my follow-ups" must not list it.
        recommendation.next_follow_up_on = None
    for field, value in changes.items():
        setattr(recommendation, field, value)
    recommendation.full_clean(exclude=["photo"])
    recommendation.save()
    RecommendationEvent.objects.create(
        recommendation=recommendation,
        action=RecommendationEvent.Action.STATE_CHANGED,
        by=by,
        at=now,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )
    if to_state in EVENT_OF_STATE:
        emit(EVENT_OF_STATE[to_state], recommendation)
    return recommendation


def recommendation_raise(
    *,
    site,
    raised_by,
    what,
    risk,
    why="",
    equipment=None,
    job=None,
    price_low=None,
    price_high=None,
    customer_acknowledged=False,
    owner=None,
    photo=None,
):
    """A new open recommendation, owned by whoever raised it unless an owner is named."""
    if risk not in Risk.values:
        raise ValidationError({"risk": "Choose how urgent it is."})
    if equipment is not None and equipment.site_id != site.pk:
        raise ValidationError({"equipment": "That equipment is at another site."})
    if job is not None and job.site_id != site.pk:
        raise ValidationError({"job": "That job is at another site."})
    with transaction.atomic():
        recommendation = Recommendation(
            customer_id=site.customer_id,
            site=site,
            equipment=equipment,
            raised_on_job=job,
            raised_by=raised_by,
            what=(what or "").strip(),
            why=why,
            risk=risk,
            price_low=price_low,
            price_high=price_high,
            customer_acknowledged=customer_acknowledged,
            owner=owner or raised_by,
            next_follow_up_on=_next_follow_up(risk),
        )
        if photo:
            recommendation.photo = photo
        if price_low is not None and price_high is not None and price_low > price_high:
            raise ValidationError({"price_high": "The high estimate is below the low one."})
        recommendation.full_clean()
        recommendation.save()
        RecommendationEvent.objects.create(
            recommendation=recommendation,
            action=RecommendationEvent.Action.RAISED,
            by=raised_by,
            at=recommendation.created_at,
            to_state=State.OPEN,
            note=f"Raised on job {job.invoice_number or job.pk}" if job is not None else "",
        )
        emit("recommendation.raised", recommendation)
    return recommendation


def recommendation_record_discussion(*, recommendation, technician, response, note="", job=None):
    """The customer was asked (or, with a reason, was not); an answer moves the next follow-up on."""
    note = (note or "").strip()
    if response not in Response.values:
        raise ValidationError({"response": "Choose the customer's answer."})
    if response == Response.NOT_DISCUSSED and not note:
        raise ValidationError({"note": "Say why it was not discussed."})
    if job is not None and job.site_id != recommendation.site_id:
        raise ValidationError("That job is at another site.")
    with transaction.atomic():
        recommendation = _locked(recommendation)
        if not recommendation.is_outstanding:
            raise ValidationError("Only an open recommendation is discussed with the customer.")
        latest = (
            Discussion.objects.filter(recommendation=recommendation, job=job).order_by("-discussed_at", "-pk").first()
            if job is not None
            else None
        )
        if latest is not None and latest.response == response and latest.note == note:
            return latest  # the same answer submitted twice (htmx, then the completion form)
        discussion = Discussion.objects.create(
            recommendation=recommendation, job=job, technician=technician, response=response, note=note
        )
        if response != Response.NOT_DISCUSSED:
            recommendation.next_follow_up_on = _next_follow_up(recommendation.risk)
            fields = ["next_follow_up_on"]
            if job is not None and job.pk != recommendation.raised_on_job_id:
                # Raised again on a later visit: off the "never discussed since raised" list for good (seed 001).
                recommendation.discussed_on_later_visit = True
                fields.append("discussed_on_later_visit")
            recommendation.save(update_fields=fields)
    return discussion


def recommendation_count_later_visits(*, days=RECOUNT_DAYS, now=None):
    """The sweep behind the dashboard's "visits since raised, never discussed": recount the completed visits
    since raised, up to `now`, of each outstanding recommendation not yet discussed on a later visit at a site
    with a visit completed in the last `days` days or since the last count (every site with days=None, for
    after an import of old jobs), and stamp `now`.

    The dashboard counts visits completed after the stamp live, so its figures are exact after every run;
    running often keeps that live part small, and picks up visits back-dated by up to `days` (an import of
    yesterday's jobs). Only changed counts are written; an advisory lock makes two runs at once take turns.
    Returns how many counts changed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_COUNT_LATER_VISITS_LOCK])
        candidates = Recommendation.objects.not_yet_discussed_later()
        last = LaterVisitsCount.objects.values_list("counted_to", flat=True).first()
        if days is not None and last is not None:
            since = min(last, now - timedelta(days=days))
            visited = Job.objects.filter(status=Job.Status.COMPLETED, completed_at__gte=since, completed_at__lt=now)
            candidates = candidates.filter(site__in=visited.order_by().values("site_id"))
        counted = (
            candidates.with_visits_since_raised(before=now)
            .exclude(later_visits=F("visits_since_raised"))
            .values("pk")
        )
        changed = Recommendation.objects.filter(pk__in=counted).update(
            later_visits=Subquery(
                Recommendation.objects.filter(pk=OuterRef("pk")).with_visits_since_raised(before=now)
                .values("visits_since_raised")[:1]
            )
        )
        LaterVisitsCount.objects.update_or_create(pk=1, defaults={"counted_to": now})
    return changed


def recommendation_accept(
    *, recommendation, by, job=None, scheduled_start=None, scheduled_end=None, technician=None, note=""
):
    """The customer said yes: link the job that does the work, or schedule one."""
    with transaction.atomic():
        recommendation = _locked(recommendation)
        if job is None:
            # A new booking: refused for a do-not-service customer, with the reason.
            ensure_bookable(recommendation.customer)
            if scheduled_start is None:
                raise ValidationError({"scheduled_start": "Choose when the work is scheduled."})
            scheduled_end = scheduled_end or scheduled_start + timedelta(hours=2)
            if scheduled_end < scheduled_start:
                raise ValidationError({"scheduled_end": "The visit cannot end before it starts."})
            job = job_book(
                customer_id=recommendation.customer_id,
                site_id=recommendation.site_id,
                equipment_id=recommendation.equipment_id,
                kind=Job.Kind.SERVICE_CALL,
                scheduled_start=scheduled_start,
                scheduled_end=scheduled_end,
                lead_technician=technician,
                summary=recommendation.what,
                by=by,
            )
        elif job.site_id != recommendation.site_id:
            raise ValidationError("That job is at another site.")
        return _move(recommendation, to_state=State.ACCEPTED, by=by, note=note, accepted_job=job)


def recommendation_decline(*, recommendation, by, reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"decline_reason": "Say why the customer declined."})
    with transaction.atomic():
        return _move(_locked(recommendation), to_state=State.DECLINED, by=by, note=reason, decline_reason=reason)


def recommendation_defer(*, recommendation, by, until, note=""):
    """The customer wants it later: it stays outstanding, and its owner follows up on that date."""
    if until is None or until <= timezone.localdate():
        raise ValidationError({"deferred_until": "Choose a date after today."})
    with transaction.atomic():
        recommendation = _locked(recommendation)
        recommendation = _move(
            recommendation,
            to_state=State.DEFERRED,
            by=by,
            note=note or f"Deferred until {until:%b %-d, %Y}",
            deferred_until=until,
        )
        recommendation.next_follow_up_on = until
        recommendation.save(update_fields=["next_follow_up_on"])
        return recommendation


def recommendation_reopen(*, recommendation, by, note=""):
    """A deferred recommendation is brought forward, e.g. the customer called back sooner."""
    with transaction.atomic():
        recommendation = _locked(recommendation)
        if recommendation.state != State.DEFERRED:
            raise ValidationError("Only a deferred recommendation is reopened.")
        recommendation = _move(recommendation, to_state=State.OPEN, by=by, note=note, deferred_until=None)
        recommendation.next_follow_up_on = timezone.localdate()
        recommendation.save(update_fields=["next_follow_up_on"])
        return recommendation


def recommendation_withdraw(*, recommendation, by, note):
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say why it is withdrawn."})
    with transaction.atomic():
        return _move(_locked(recommendation), to_state=State.WITHDRAWN, by=by, note=note)


def recommendation_mark_done_by_others(*, recommendation, by, note=""):
    with transaction.atomic():
        return _move(_locked(recommendation), to_state=State.DONE_BY_OTHERS, by=by, note=note)


def recommendation_mark_failed_while_open(*, recommendation, by, note=""):
    """The equipment failed before the work was done: the outcome this app exists to prevent, so it is kept."""
    with transaction.atomic():
        return _move(_locked(recommendation), to_state=State.FAILED_WHILE_OPEN, by=by, note=note)


def recommendation_pass_to_sales(*, recommendation, by, to, note=""):
    """Sales owns the lead from now on; the pass is recorded so a lead nobody follows up shows (seed 004)."""
    if not roles.has_role(to, roles.SALES):
        raise ValidationError({"to": "Pass it to someone in sales."})
    with transaction.atomic():
        recommendation = _locked(recommendation)
        if not recommendation.is_outstanding:
            raise ValidationError("Only an open recommendation is passed to sales.")
        now = timezone.now()
        recommendation.owner = to
        recommendation.passed_to_sales_at = now
        recommendation.passed_to_sales_by = by
        recommendation.next_follow_up_on = min(
            recommendation.next_follow_up_on or _next_follow_up(recommendation.risk),
            _next_follow_up(recommendation.risk),
        )
        # A new owner is reminded of the follow-up date even if the last owner already was.
        recommendation.follow_up_reminded_for = None
        recommendation.save(
            update_fields=[
                "owner", "passed_to_sales_at", "passed_to_sales_by", "next_follow_up_on", "follow_up_reminded_for",
            ]
        )
        RecommendationEvent.objects.create(
            recommendation=recommendation,
            action=RecommendationEvent.Action.PASSED_TO_SALES,
            by=by,
            at=now,
            from_state=recommendation.state,
            to_state=recommendation.state,
            note=f"Passed to {to.get_full_name() or to.username}" + (f": {note}" if note else ""),
        )
        emit("lead.passed_to_sales", recommendation)
        notifications.notify(
            users=[to],
            text=f"Lead passed to you: {recommendation.what} ({recommendation.customer.name})",
            url=recommendation.get_absolute_url(),
        )
        return recommendation


def undiscussed_on_job(job):
    """Open recommendations at the job's site still lacking a discussion on this job (the completion rule)."""
    return (
        Recommendation.objects.open()
        .for_site(job.site_id)
        .exclude(raised_on_job=job)
        .exclude(discussions__job=job)
        .order_by("pk")
    )


def job_completion_rule(*, job, completed_by, discussions=(), new_recommendations=(), customer_acknowledged=False,
                        completed_elsewhere=False):
    """What completing a job requires of recommendations (registered in customers.completion): record each
    discussion and new recommendation, then refuse unless every open recommendation at the site was discussed
    on this job (seed 001: it is raised on every visit).

    `new_recommendations` is a list of dicts of recommendation_raise arguments (site, job and raised_by are
    filled in). `customer_acknowledged` means the customer signed the work order listing them.

    A job completed elsewhere (the dispatch system) cannot have recorded the discussions: it is not refused, and the
    open recommendations it leaves undiscussed are the ones undiscussed_on_job(job) still finds.
    """
    if completed_elsewhere:
        return
    for item in discussions:
        recommendation_record_discussion(
            recommendation=item.recommendation,
            technician=completed_by,
            response=item.response,
            note=item.note,
            job=job,
        )
    for fields in new_recommendations:
        recommendation_raise(
            **fields, site=job.site, job=job, raised_by=completed_by, customer_acknowledged=customer_acknowledged
        )
    if customer_acknowledged:
        Recommendation.objects.filter(raised_on_job=job).update(customer_acknowledged=True)
    missing = list(undiscussed_on_job(job).values_list("what", flat=True))
    if missing:
        raise ValidationError(
            "Record the customer's answer for every open recommendation first: " + "; ".join(missing)
        )


def follow_up_intervals_set(*, days, by, via=Via.PAGE, now=None):
    """Managers set the days between follow-ups per risk ({risk: days}); recommendations already raised keep
    their next follow-up date. Each value changed is recorded, before and after."""
    if not roles.has_role(by, roles.MANAGER):
        raise ValidationError("Only managers change the follow-up intervals.")
    if any(value < 1 for value in days.values()):
        raise ValidationError("A follow-up interval is at least one day.")
    with transaction.atomic():
        current = {risk: FollowUpInterval.DEFAULT_DAYS[risk] for risk in days}
        current.update(FollowUpInterval.objects.select_for_update().filter(risk__in=list(days)).values_list(
            "risk", "days"))
        setting_changes_record(setting="follow_up_intervals", by=by, via=via, now=now, changes={
            Risk(risk).label: (f"{current[risk]} days", f"{value} days") for risk, value in days.items()
        })
        for risk, value in days.items():
            FollowUpInterval.objects.update_or_create(risk=risk, defaults={"days": value})
