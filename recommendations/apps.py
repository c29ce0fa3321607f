from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from customers import history

        from .history import recommendation_entries

        history.register(recommendation_entries)
