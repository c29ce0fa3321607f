"""Forms only validate; callbacks/claims.py writes."""

from decimal import Decimal

from django import forms

from servicedesk import limits

from ..models import WarrantyClaim

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("open", "Open (to send, sent, approved)"), ("", "Any"),
                                        *WarrantyClaim.Status.choices], required=False, initial="open")
    supplier = forms.CharField(max_length=200, required=False, label="Supplier")
    older_than = forms.IntegerField(min_value=0, max_value=3650, required=False, label="Opened over (days) ago")


class ClaimForm(forms.ModelForm):
    confirm_credit = forms.BooleanField(required=False, label="Confirm: the credit received is more than expected")

    class Meta:
        model = WarrantyClaim
        fields = ["status", "part_name", "part_number", "failed_serial", "supplier", "manufacturer", "rma_number",
                  "sent_on", "expected_credit", "denial_reason", "credit_received", "credited_on"]
        widgets = {"sent_on": DATE_WIDGET, "credited_on": DATE_WIDGET,
                   "denial_reason": forms.Textarea(attrs={"rows": 2, "maxlength": limits.NOTE})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("expected_credit", "credit_received"):
            self.fields[name].min_value = Decimal("0")
            self.fields[name].widget.attrs["min"] = "0"
