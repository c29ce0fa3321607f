from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import completion, demo, history

        from .demo import create_recommendations
        from .history import recommendation_entries
        from .services import job_completion_rule

        history.register(recommendation_entries)
        completion.register(job_completion_rule)
        demo.register(create_recommendations)
