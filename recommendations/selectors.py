"""Reads other apps' pages use, so they need not know how "open at a site" is defined."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import Recommendation


def with_open_recommendation_counts(jobs):
    """Annotate each job with `open_recommendations`: the outstanding ones at its site (one query in all)."""
    counts = (
        Recommendation.objects.open()
        .filter(site=OuterRef("site"))
        .order_by()
        .values("site")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return jobs.annotate(open_recommendations=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
