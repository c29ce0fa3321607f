"""What happens in servicedesk, told to other systems: the event types, and `emit`, which every service that makes
such a change calls inside its own `transaction.atomic()` block.

A base module (every app imports it; it imports no app). The outbox itself, the subscriptions and the delivery are
the webhooks room of the roof (servicedesk/webhooks/), which registers its recorder here when Django starts: the
apps name what happened and to which record, the roof writes the rows, in the caller's transaction, so a change
rolled back leaves no event and a change committed cannot lose its event to a crash before an enqueue.
"""

from django.db import transaction

# type -> what it means; the README and the subscription form list them from here.
EVENT_TYPES = {
    "callback.logged": "A callback was logged (data: the callback).",
    "callback.repeat_detected": "A callback was logged on a job, equipment or site with another within the repeat "
                                "window, and escalated (data: the new callback; repeat_of_id names the earlier one).",
    "callback.revisit_scheduled": "The return visit was booked (data: the callback; revisit_job_id is the visit).",
    "callback.resolved": "The problem is fixed, with its root cause (data: the callback).",
    "callback.closed": "The customer confirmed the fix on the closure call (data: the callback).",
    "callback.reopened": "The fix did not hold: the callback is open again (data: the callback).",
    "recommendation.raised": "A technician (or a call, or a callback) raised a recommendation (data: it).",
    "recommendation.accepted": "The customer said yes; accepted_job_id is the job that does the work.",
    "recommendation.declined": "The customer said no, with the reason (data: the recommendation).",
    "recommendation.failed_while_open": "The equipment failed while the recommendation was open.",
    "lead.passed_to_sales": "A recommendation was passed to someone in sales (data: the recommendation).",
    "follow_up_call.completed": "A follow-up call was finished: reached, asked not to be called, or given up "
                                "(data: the call; state and outcome say which).",
    "feedback.received": "A customer left feedback on the public page (data: the feedback).",
    "customer.do_not_service_approved": "A manager approved do-not-service for a customer (data: the customer).",
}

_recorders = []


def register_recorder(recorder):
    """`recorder(event_type, record)` writes the outbox rows; called once, by the webhooks room's AppConfig."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def emit(event_type: str, record) -> None:
    """Record that `event_type` happened to `record` (a model instance, as saved), in the current transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}")
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the row would be written whether or not the change it tells of commits.
        raise RuntimeError(f"emit({event_type!r}) must be called inside the change's transaction.atomic() block")
    for recorder in _recorders:
        recorder(event_type, record)
