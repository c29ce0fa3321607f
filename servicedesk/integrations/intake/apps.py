from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "servicedesk.integrations.intake"
    label = "intake"
    verbose_name = "Webhook intake"
    default_auto_field = "django.db.models.BigAutoField"
