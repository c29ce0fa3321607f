"""The warranty claims at a glance: claims by status, credit expected against received, the denial rate per
supplier and the parts that fail most. Four aggregate queries, whatever the number of claims."""

from django.db.models import Count, Q, Sum

from ..models import WarrantyClaim

Status = WarrantyClaim.Status


def claim_figures():
    claims = WarrantyClaim.objects.order_by()
    by_status = dict(claims.values_list("status").annotate(n=Count("pk")))
    credit = claims.aggregate(
        expected=Sum("expected_credit", filter=~Q(status=Status.DENIED)),
        received=Sum("credit_received", filter=Q(status=Status.CREDITED)),
    )
    suppliers = [
        {**row, "rate": round(100 * row["denied"] / row["answered"], 1) if row["answered"] else None}
        for row in claims.values("supplier").annotate(
            claims=Count("pk"),
            answered=Count("pk", filter=Q(status__in=[Status.APPROVED, Status.CREDITED, Status.DENIED])),
            denied=Count("pk", filter=Q(status=Status.DENIED)),
        ).order_by("-claims", "supplier")[:20]
    ]
    parts = list(claims.values("part_name").annotate(n=Count("pk")).order_by("-n", "part_name")[:10])
    return {
        "by_status": [(label, by_status.get(value, 0)) for value, label in Status.choices],
        "expected": credit["expected"] or 0,
        "received": credit["received"] or 0,
        "suppliers": suppliers,
        "parts": parts,
    }
