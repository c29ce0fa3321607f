from django.apps import AppConfig


class TextingConfig(AppConfig):
    name = "servicedesk.texting"
    label = "texting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers.history import register_trail

        from .history import text_entry, text_rows

        register_trail("text", rows=text_rows, entry=text_entry)
