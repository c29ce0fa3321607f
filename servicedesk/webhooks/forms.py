from django import forms

from servicedesk.outbox import EVENT_TYPES


class SubscriptionForm(forms.Form):
    label = forms.CharField(max_length=100, help_text="What receives the events, e.g. \"dispatch board\".")
    url = forms.URLField(
        max_length=500, label="URL", assume_scheme="https",
        help_text="https, to a public address; we post each event there as JSON, signed.",
    )
    event_types = forms.MultipleChoiceField(
        label="Events", widget=forms.CheckboxSelectMultiple,
        choices=[(name, f"{name}: {meaning}") for name, meaning in EVENT_TYPES.items()],
    )


class ReplaySinceForm(forms.Form):
    since = forms.DateTimeField(
        label="Send again every event since", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
