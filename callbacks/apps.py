from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers.history import register

        from .history import callback_entries, follow_up_call_entries

        register(callback_entries)
        register(follow_up_call_entries)
