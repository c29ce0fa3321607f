"""The admin is one more door to jobs and consent: what it changes is recorded as the pages' changes are
(customers/events.py), with `via` admin and the manager who saved it. Mixed into the ModelAdmins in admin.py;
the admin saves the object and these rows in one transaction (changeform_view is atomic)."""

from servicedesk.audit import Via

from .events import consent_event_record, job_status_change_record
from .models import ConsentEvent

Consent = ConsentEvent.Action


class JobTrail:
    def save_model(self, request, obj, form, change):
        before = form.initial.get("status", "") if change else ""
        super().save_model(request, obj, form, change)
        if not change or "status" in form.changed_data:
            job_status_change_record(job=obj, from_status=before, by=request.user, via=Via.ADMIN)


class ConsentTrail:
    # field: (action when turned on, action when turned off)
    CONSENTS = {
        "contact_opt_out": (Consent.CONTACT_OPT_OUT, Consent.CONTACT_OPT_IN),
        "reminders_opt_in": (Consent.REMINDERS_OPT_IN, Consent.REMINDERS_OPT_OUT),
    }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for field, (turned_on, turned_off) in self.CONSENTS.items():
            if field in form.changed_data and (change or getattr(obj, field)):
                consent_event_record(customer_id=obj.pk, action=turned_on if getattr(obj, field) else turned_off,
                                     by=request.user, via=Via.ADMIN)
