"""The office's warranty claims: the list (filters by status, supplier, age) with the figures at a glance, and a
claim's page, where it is moved on."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from servicedesk import roles
from servicedesk.forms import add_errors

from ..claims import claim_update
from ..models import WarrantyClaim
from .claim_figures import claim_figures
from .claim_forms import ClaimFilterForm, ClaimForm

PAGE = 100


@roles.role_required(*roles.OFFICE)
def claim_list(request):
    form = ClaimFilterForm(request.GET or None)
    claims = WarrantyClaim.objects.select_related("callback", "callback__customer")
    status = "open"
    if form.is_valid():
        status = form.cleaned_data["status"]
        if form.cleaned_data["supplier"]:
            claims = claims.filter(supplier__icontains=form.cleaned_data["supplier"])
        if form.cleaned_data["older_than"] is not None:
            claims = claims.filter(created_at__lte=timezone.now() - timedelta(days=form.cleaned_data["older_than"]))
    if status == "open":
        claims = claims.open()
    elif status:
        claims = claims.filter(status=status)
    return render(request, "callbacks/recalls/claim_list.html", {
        "form": form, "claims": claims.order_by("created_at", "pk")[:PAGE], "figures": claim_figures(),
        "now": timezone.now(),
    })


@roles.role_required(*roles.OFFICE)
def claim_detail(request, pk):
    claim = get_object_or_404(WarrantyClaim.objects.select_related("callback", "callback__customer"), pk=pk)
    form = ClaimForm(request.POST or None, instance=claim)
    if request.method == "POST":
        if form.is_valid():
            details = {name: value for name, value in form.cleaned_data.items()
                       if name not in ("status", "confirm_credit")}
            try:
                claim_update(claim=claim, by=request.user, status=form.cleaned_data["status"],
                             confirm_credit=form.cleaned_data["confirm_credit"], **details)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Claim saved.")
                return redirect("callbacks:claim", pk=claim.pk)
        messages.error(request, "Nothing was changed: see the form below.")
        claim.refresh_from_db()
    return render(request, "callbacks/recalls/claim_detail.html", {"claim": claim, "form": form})
