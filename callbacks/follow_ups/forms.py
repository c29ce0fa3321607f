"""Forms of the call screen: they validate; follow_ups/services.py does the writing."""

from django import forms

from customers.models import Job
from servicedesk import limits

from ..models import Urgency
from .models import FollowUpCall

YES_NO = [("", "Not asked"), ("yes", "Yes"), ("no", "No")]
SATISFACTION = [(str(n), label) for n, label in (
    (1, "1 — very unhappy"), (2, "2"), (3, "3"), (4, "4"), (5, "5 — delighted"),
)]


def _yes_no(value):
    return {"yes": True, "no": False}.get(value)


class AttemptForm(forms.Form):
    """One attempt at the call, with the script's answers when the customer was reached (seed 002)."""

    outcome = forms.ChoiceField(choices=FollowUpCall.Outcome.choices, widget=forms.RadioSelect)
    issues = forms.CharField(max_length=limits.ACCOUNT, label="Any issues since the visit?", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    expectations_met = forms.ChoiceField(label="Did we meet what you expected?", choices=YES_NO, required=False)
    anything_else = forms.CharField(max_length=limits.NOTE, label="Anything else we can do for you?", required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}))
    would_refer = forms.ChoiceField(label="Would you refer us to a neighbour or friend?", choices=YES_NO,
                                    required=False)
    satisfaction = forms.TypedChoiceField(label="How satisfied are you, 1 to 5?", choices=SATISFACTION, coerce=int,
                                          required=False, empty_value=None, widget=forms.RadioSelect)
    note = forms.CharField(
        max_length=limits.NOTE, label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == FollowUpCall.Outcome.REACHED and data.get("satisfaction") is None:
            self.add_error("satisfaction", "Ask how satisfied the customer is before recording the call as reached.")
        return data

    def service_arguments(self):
        data = self.cleaned_data
        return {
            "outcome": data["outcome"], "note": data["note"], "issues": data["issues"],
            "expectations_met": _yes_no(data["expectations_met"]), "anything_else": data["anything_else"],
            "would_refer": _yes_no(data["would_refer"]), "satisfaction": data["satisfaction"],
        }


class CallbackFromCallForm(forms.Form):
    problem = forms.CharField(
        max_length=limits.ACCOUNT, label="Problem, in the customer's words", widget=forms.Textarea(attrs={"rows": 2})
    )
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.NORMAL)


class LeadForm(forms.Form):
    what = forms.CharField(label="Work the customer is interested in", max_length=200)


class ReferralForm(forms.Form):
    name = forms.CharField(label="Referral's name", max_length=200)
    phone = forms.CharField(label="Referral's phone", max_length=40)
    note = forms.CharField(
        max_length=limits.NOTE, label="Referral note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class FollowUpRulesForm(forms.Form):
    """Days after completion per job kind; empty means no follow-up call."""

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Job.Kind.choices:
            self.fields[kind] = forms.IntegerField(
                label=label, required=False, min_value=0, max_value=365, initial=rules.get(kind),
                help_text="Days after completion; empty for no call.",
            )
