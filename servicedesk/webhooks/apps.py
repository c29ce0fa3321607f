from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "servicedesk.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Outbound webhooks"

    def ready(self):
        from servicedesk import outbox

        from .outbox import record_event

        outbox.register_recorder(record_event)
