from django.apps import AppConfig
from django.db.models.signals import post_migrate

from .people import show_users_by_full_name
from .triggers import install_after_migrate


def _sync_beat_schedule(sender, **kwargs):
    from .celery import sync_beat_schedule

    sync_beat_schedule()


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Service desk"

    def ready(self):
        # Django names a user by str(user) in the admin, in model choice fields and filters: the full name there.
        show_users_by_full_name()
        # After every migrate, so a trigger a migration dropped (SQLite drops a rebuilt table's) is put back.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="servicedesk.install_triggers")
        # After migrate, so a new deployment has every beat entry without a manual step (servicedesk/celery.py).
        post_migrate.connect(_sync_beat_schedule, sender=self, dispatch_uid="servicedesk.sync_beat_schedule")
