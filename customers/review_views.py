"""The managers' page for review requests (customers/reviews.py): the link, the delay, the channel, the cooldown,
the pause, and what the last visits' requests came to."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from servicedesk import roles
from servicedesk.forms import add_errors

from . import reviews
from .forms import ReviewRequestSettingsForm
from .models import ReviewRequest, ReviewRequestSettings

RECENT = 25


@roles.role_required(*roles.OFFICE)
def review_settings(request):
    config = ReviewRequestSettings.current()
    can_edit = roles.has_role(request.user, roles.MANAGER)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only managers change how reviews are requested.")
    form = ReviewRequestSettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        try:
            reviews.review_requests_configure(by=request.user, **{
                name: form.cleaned_data[name] for name in ReviewRequestSettingsForm.Meta.fields
            })
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Review request settings saved. Visits already decided stay as they are.")
            return redirect("customers:review_settings")
    recent = ReviewRequest.objects.select_related("customer", "job", "technician")[:RECENT]
    return render(request, "customers/review_settings.html", {
        "form": form, "can_edit": can_edit, "config": config, "recent": recent,
    })
