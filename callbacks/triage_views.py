"""The office's triage queue: callbacks nobody owns yet (the feedback page's), taken by a CSR in one click."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from customers.pagination import CappedPaginator
from servicedesk import roles

from . import services
from .forms import TriageOwnerForm
from .models import Triage, with_jobs_and_people
from .queues import triage_queue
from .views import PAGE_SIZE, _get_callback_for_user


@roles.role_required(*roles.OFFICE)
def triage(request):
    page = CappedPaginator(triage_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_jobs_and_people(page.object_list)
    current = Triage.current()
    form = TriageOwnerForm(initial={"owner": current.owner_id}) if roles.has_role(request.user, roles.MANAGER) else None
    return render(request, "callbacks/triage.html", {"page": page, "triage": current, "owner_form": form})


@require_POST
@roles.role_required(*roles.OFFICE)
def callback_take(request, pk):
    callback = _get_callback_for_user(request, pk)
    try:
        services.callback_take(callback=callback, by=request.user)
    except services.TransitionRefused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Callback #{callback.pk} is yours: make the first contact.")
    return redirect(callback)


@require_POST
@roles.role_required(roles.MANAGER)
def triage_owner(request):
    form = TriageOwnerForm(request.POST)
    if form.is_valid():
        try:
            services.triage_owner_set(owner=form.cleaned_data["owner"], by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            owner = form.cleaned_data["owner"]
            who = owner.get_full_name() or owner.username if owner else "every CSR"
            messages.success(request, f"Callbacks nobody owns now remind {who}.")
    else:
        messages.error(request, "Nothing was changed: pick someone from the list.")
    return redirect("callbacks:triage")
