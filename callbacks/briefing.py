"""The callbacks' section of the technician's briefing (see recommendations/briefing.py): the open callbacks at
the visit's site, and the callback this visit is the revisit of."""

from django.db.models import Q

from recommendations.briefing import BriefingSection

from .models import Callback


def callbacks_section(job):
    """One query: every open callback at the site, and the callback this visit is booked to fix (closed or not,
    so the technician still sees what they came for)."""
    callbacks = list(
        Callback.objects.filter((Q(site=job.site_id) & ~Q(state=Callback.State.CLOSED)) | Q(revisit_job=job.pk))
        .select_related("job", "job__lead_technician", "equipment")
        .order_by("logged_at", "pk")
    )
    fixing = [callback for callback in callbacks if callback.revisit_job_id == job.pk]
    return BriefingSection(
        template="callbacks/_briefing_callbacks.html",
        context={"fixing": fixing, "open_callbacks": [callback for callback in callbacks if callback.is_open]},
    )

