from django import forms

from customers.models import Feedback

RATING_CHOICES = [("", "No rating")] + [(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)]


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(
        label="What would you like to tell us?", choices=Feedback.Kind.choices, widget=forms.RadioSelect,
    )
    rating = forms.TypedChoiceField(
        label="How would you rate the visit? (optional)", choices=RATING_CHOICES, coerce=int, empty_value=None,
        required=False,
    )
    text = forms.CharField(
        label="Your message", max_length=4000, widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Tell us in a few words what you would like us to know."},
    )
    wants_call_back = forms.BooleanField(label="Please call me back", required=False)
