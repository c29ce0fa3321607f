from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from servicedesk import roles
from servicedesk.audit import setting_changes

from .. import views as callback_views
from ..pauses import callback_pause, callback_resume
from ..windows import KINDS, recall_windows, recall_windows_set
from .forms import ClassifyForm, NoteForm, PauseForm, RecallWindowForm, classify_context
from .services import callback_classify


@require_POST
@roles.role_required(*callback_views.STAFF)
def classify(request, pk):
    """The technician or the office classifies a potential callback; a manager reclassifies, with a reason."""

    def allowed(user, callback):
        context = classify_context(user, callback)
        return context["can_classify"] or context["can_reclassify"]

    def perform(callback, data):
        callback_classify(callback=callback, by=request.user, classification=data["classification"],
                          reason=data["reason"], faulty_part=data["faulty_part"], part_supplier=data["part_supplier"],
                          root_cause=data["root_cause"])

    return callback_views._act(request, pk, form_class=ClassifyForm, form_name="classify_form", allowed=allowed,
                               perform=perform, success="Classified. The figures count it accordingly.")


@roles.role_required(roles.MANAGER)
def recall_windows_page(request):
    """Managers set, per job kind, how long after completion a new problem is presumed a callback."""
    current = recall_windows()
    data = request.POST if request.method == "POST" else None
    rows = [(kind, kind.label, RecallWindowForm(data, prefix=kind, initial={"days": current[kind]}))
            for kind in KINDS]
    if request.method == "POST":
        if all(form.is_valid() for _, _, form in rows):
            try:
                recall_windows_set(windows={kind: form.cleaned_data["days"] for kind, _, form in rows},
                                   by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Recall windows saved. The log form proposes from them from now on.")
                return redirect("callbacks:recall_windows")
        else:
            messages.error(request, "Nothing was changed: see the form below.")
    return render(request, "callbacks/recalls/recall_windows.html",
                  {"rows": rows, "changes": setting_changes("recall_windows")})


def _office(user, callback):
    return roles.is_office(user)


@require_POST
@roles.role_required(*callback_views.STAFF)
def pause(request, pk):
    """Put a callback on hold: waiting on the customer or on parts, until the expected date."""
    return callback_views._act(
        request, pk, form_class=PauseForm, form_name="pause_form", allowed=_office,
        perform=lambda callback, data: callback_pause(callback=callback, by=request.user, reason=data["reason"],
                                                      note=data["note"], expected_on=data["expected_on"]),
        success="On hold: its clock is stopped until the expected date or until taken off hold.")


@require_POST
@roles.role_required(*callback_views.STAFF)
def resume(request, pk):
    return callback_views._act(
        request, pk, form_class=NoteForm, form_name="resume_form", allowed=_office,
        perform=lambda callback, data: callback_resume(callback=callback, by=request.user),
        success="Off hold: the clock runs again.")
