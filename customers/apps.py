from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import history, import_notes, reviews

        history.register(history.job_entries)
        history.register(history.relationship_entries)
        history.register(history.trail_entries)
        history.register_trail("job_event", rows=history.job_event_rows, entry=history.job_event_entry)
        history.register_trail("consent", rows=history.consent_rows, entry=history.consent_entry)
        history.register_trail("abusive_call", rows=history.abusive_call_rows, entry=history.abusive_call_entry)
        import_notes.register(reviews.import_note)
