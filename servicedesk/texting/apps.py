from django.apps import AppConfig


class TextingConfig(AppConfig):
    name = "servicedesk.texting"
    label = "texting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers.history import register

        from .history import text_entries

        register(text_entries)
