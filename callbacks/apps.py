from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers.history import register
        from recommendations import briefing

        from .briefing import callbacks_section
        from .history import callback_entries

        register(callback_entries)
        briefing.register(callbacks_section)
