from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import history, import_notes, reviews

        history.register(history.job_entries)
        history.register(history.relationship_entries)
        history.register(history.job_event_entries)
        history.register(history.consent_entries)
        import_notes.register(reviews.import_note)
