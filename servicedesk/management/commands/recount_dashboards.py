from django.core.management.base import BaseCommand

from recommendations.services import recommendation_count_later_visits
from servicedesk.dashboards import callback_rollup, follow_up_rollup, rollup


class Command(BaseCommand):
    help = (
        "Recount every week of the dashboards' rollups and every recommendation's later visits. The sweeps recount "
        "only recent weeks; run this after importing or correcting jobs, calls or visits in older weeks."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"job rollup: {rollup.refresh(weeks=None)} weeks recounted")
        self.stdout.write(f"follow-up rollup: {follow_up_rollup.refresh(full=True)} weeks recounted")
        # (The callback rollup needs no recount after an import: the database logs every write to callbacks. It is
        # recounted here all the same, for an operator who wants every rollup counted afresh.)
        self.stdout.write(f"callback rollup: {callback_rollup.refresh(full=True)} weeks recounted")
        self.stdout.write(f"later visits: {recommendation_count_later_visits(days=None)} counts changed")
