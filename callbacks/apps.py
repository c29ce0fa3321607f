from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import completion, import_notes
        from customers.history import register, register_trail
        from recommendations import briefing

        from .briefing import callbacks_section
        from .follow_ups.services import import_note
        from .history import callback_entries, follow_up_call_entry, follow_up_call_rows
        from .services import callback_revisits_done

        register(callback_entries)
        register_trail("follow_up_call", rows=follow_up_call_rows, entry=follow_up_call_entry)
        import_notes.register(import_note)
        briefing.register(callbacks_section)
        completion.register_after(callback_revisits_done)
