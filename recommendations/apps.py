from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import completion, history

        from .history import recommendation_entries
        from .services import job_completion_rule

        history.register(recommendation_entries)
        completion.register(job_completion_rule)
