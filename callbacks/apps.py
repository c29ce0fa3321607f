from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import demo
        from customers.history import register

        from .demo import create_callbacks
        from .follow_ups.demo import create_follow_up_calls
        from .history import callback_entries

        register(callback_entries)
        demo.register(create_callbacks)
        demo.register(create_follow_up_calls)
