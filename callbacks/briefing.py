"""The callbacks' part of a visit's briefing (see customers/briefing.py)."""

from customers.briefing import BriefingBlock
from customers.models import Job

from .models import Callback


def revisit_blocks(job):
    """On a callback revisit: the callback the visit is fixing and what the customer reported, in one query (none
    on any other visit)."""
    if job.kind != Job.Kind.CALLBACK_REVISIT:
        return []
    callbacks = Callback.objects.filter(revisit_job=job.pk).select_related("job", "job__lead_technician").order_by("pk")
    return [BriefingBlock("callbacks/_briefing_revisit.html", {"callback": callback}) for callback in callbacks]
