"""The recommendations' part of the customer's history: raised, each state change, and each discussion.

Two queries whatever the length of the history (events, then discussions), as customers.history requires.
"""

from customers.history import HistoryEntry

from .models import Discussion, RecommendationEvent


def _name(user):
    return user.get_full_name() or user.username


def recommendation_entries(customer, *, limit):
    events = (
        RecommendationEvent.objects.filter(recommendation__customer=customer)
        .select_related("recommendation", "by")
        .order_by("-at", "-pk")[:limit]
    )
    for event in events:
        recommendation = event.recommendation
        if event.action == RecommendationEvent.Action.RAISED:
            title = f"Recommendation raised: {recommendation.what}"
            detail = recommendation.why
            badge = recommendation.get_risk_display()
        elif event.action == RecommendationEvent.Action.PASSED_TO_SALES:
            title = f"Recommendation passed to sales: {recommendation.what}"
            detail, badge = event.note, ""
        else:
            title = f"Recommendation {event.get_to_state_display().lower()}: {recommendation.what}"
            detail, badge = event.note, event.get_to_state_display()
        yield HistoryEntry(
            when=event.at,
            kind="recommendation",
            title=title,
            url=recommendation.get_absolute_url(),
            detail=detail,
            badge=badge,
            people=[_name(event.by)],
        )
    discussions = (
        Discussion.objects.filter(recommendation__customer=customer)
        .select_related("recommendation", "technician")
        .order_by("-discussed_at", "-pk")[:limit]
    )
    for discussion in discussions:
        where = "on a visit" if discussion.job_id else "by phone"
        yield HistoryEntry(
            when=discussion.discussed_at,
            kind="recommendation",
            title=f"Recommendation discussed {where}: {discussion.recommendation.what}",
            url=discussion.recommendation.get_absolute_url(),
            detail=discussion.note,
            badge=discussion.get_response_display(),
            people=[_name(discussion.technician)],
        )
