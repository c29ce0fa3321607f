from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import briefing, completion
        from customers.history import register

        from .briefing import revisit_blocks
        from .history import callback_entries, follow_up_call_entries
        from .services import callback_revisits_done

        register(callback_entries)
        register(follow_up_call_entries)
        completion.register_after(callback_revisits_done)
        briefing.register(revisit_blocks)
