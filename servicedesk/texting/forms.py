from django import forms
from django.core.exceptions import ValidationError

from servicedesk import limits

from . import consent
from .models import MAX_TEXT, TextTemplate

# The largest id a database key holds: a bigger number is refused by the form, not by the database.
MAX_ID = 2**63 - 1
ABOUT = ("callback", "recommendation", "follow_up_call")


class TextForm(forms.Form):
    # No max_length on the field: a text too long is refused with its count (services.check_body), not cut.
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 3}))
    next_update_due_at = forms.DateTimeField(
        label="Next update due (callback)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    callback = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    recommendation = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    follow_up_call = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if len(body) > MAX_TEXT:
            raise ValidationError(f"A text may be at most {MAX_TEXT:,} characters; this one has {len(body):,}.")
        return body

    def clean(self):
        # The page shows no hidden field's own error: say it where the sender reads.
        for name in ABOUT:
            if name in self.errors:
                self.add_error(None, f"The {name.replace('_', ' ')} this text was to be about was not found.")
        return super().clean()


class ConsentForm(forms.Form):
    mobile = forms.CharField(label="Mobile number", max_length=40)
    granted = forms.BooleanField(label="The customer agrees to texts (asked on the phone just now)", required=False)
    note = forms.CharField(max_length=limits.NOTE, required=False, widget=forms.TextInput)

    def clean_mobile(self):
        return consent.mobile_number(self.cleaned_data["mobile"])


class LinkForm(forms.Form):
    customer = forms.IntegerField(label="Customer number", min_value=1, max_value=MAX_ID)


class NewCustomerForm(forms.Form):
    """A customer added from their text: the number is the one they texted from."""

    name = forms.CharField(max_length=200)
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = TextTemplate
        fields = ["name", "body"]
        help_texts = {"body": "Placeholders: {first_name}, {company}, {technician}, {date}."}
