from django import forms
from django.core.exceptions import ValidationError

from servicedesk import limits

from . import consent
from .models import MAX_TEXT, TextTemplate


class TextForm(forms.Form):
    # No max_length on the field: a text too long is refused with its count (services.check_body), not cut.
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 3}))
    next_update_due_at = forms.DateTimeField(
        label="Next update due (callback)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    callback = forms.IntegerField(required=False, widget=forms.HiddenInput)
    recommendation = forms.IntegerField(required=False, widget=forms.HiddenInput)
    follow_up_call = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if len(body) > MAX_TEXT:
            raise ValidationError(f"A text may be at most {MAX_TEXT:,} characters; this one has {len(body):,}.")
        return body


class ConsentForm(forms.Form):
    mobile = forms.CharField(label="Mobile number", max_length=40)
    granted = forms.BooleanField(label="The customer agrees to texts (asked on the phone just now)", required=False)
    note = forms.CharField(max_length=limits.NOTE, required=False, widget=forms.TextInput)

    def clean_mobile(self):
        return consent.mobile_number(self.cleaned_data["mobile"])


class LinkForm(forms.Form):
    customer = forms.IntegerField(label="Customer number", min_value=1)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = TextTemplate
        fields = ["name", "body"]
        help_texts = {"body": "Placeholders: {first_name}, {company}, {technician}, {date}."}
