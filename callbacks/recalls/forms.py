"""Forms only validate; recalls/services.py writes."""

from django import forms

from servicedesk import limits, roles

from ..classification import OUTCOMES
from ..models import Callback, CallbackPause, Classification
from ..pauses import PAUSABLE

OUR_WORK_CAUSES = [(value, label) for value, label in Callback.RootCause.choices
                   if value not in (Callback.RootCause.UNRELATED, Callback.RootCause.FAULTY_PART)]


class ClassifyForm(forms.Form):
    classification = forms.ChoiceField(
        choices=[(value, Classification(value).label) for value in OUTCOMES], widget=forms.RadioSelect,
        label="What the diagnosis found",
    )
    reason = forms.CharField(max_length=limits.NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             label="What was found (why)",
                             help_text="Needed for a new problem (the revisit becomes billable) and from a manager "
                                       "reclassifying.")
    faulty_part = forms.CharField(max_length=200, required=False, label="Part under warranty (name or number)")
    part_supplier = forms.CharField(max_length=200, required=False, label="Supplier / distributor")
    root_cause = forms.ChoiceField(choices=[("", "—"), *OUR_WORK_CAUSES], required=False,
                                   label="Root cause of our work (a resolved callback)")


def classify_context(user, callback, bound=None):
    """The detail page's classification panel: who may classify or reclassify, and the form."""
    can_classify = callback.is_potential and callback.is_open and (
        roles.is_office(user) or roles.has_role(user, roles.TECHNICIAN))
    can_reclassify = not callback.is_potential and roles.has_role(user, roles.MANAGER)
    form = bound or ClassifyForm(auto_id="id_classify_%s")
    return {"classify_form": form, "can_classify": can_classify, "can_reclassify": can_reclassify}


class RecallWindowForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=3650, required=False, label="Days after completion",
                              help_text="Empty: no window (never presumed a callback).")


class PauseForm(forms.Form):
    reason = forms.ChoiceField(choices=CallbackPause.Reason.choices, widget=forms.RadioSelect, label="Waiting on")
    note = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}), label="What for")
    expected_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Expected by")


def pause_context(user, callback, bound=None):
    """The callback page's hold panel: the office puts a waiting callback on hold or takes it off."""
    can_pause = roles.is_office(user) and (callback.state in PAUSABLE or callback.paused_since is not None)
    return {"pause_form": bound or PauseForm(auto_id="id_pause_%s"), "can_pause": can_pause}


class NoteForm(forms.Form):
    """Taking a callback off hold asks for nothing."""
