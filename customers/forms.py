from django import forms
from django.template.defaultfilters import filesizeformat

from servicedesk import limits

from .importing import KIND_CHOICES
from .models import DoNotServiceAttempt

# What one request can preview and then import well within gunicorn's 30 s timeout: 10,000 jobs with summaries are
# about 2 MB and import in about two seconds. Larger files go through `manage.py import_csv`, which has no limit,
# until imports move to the background.
MAX_IMPORT_SIZE = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds", choices=KIND_CHOICES,
        help_text="Import customers first, then sites, equipment and jobs: each refers to the ones before it.",
    )
    file = forms.FileField(
        label="CSV file", help_text="Exported from your dispatch system and saved as CSV UTF-8.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_SIZE:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; at most {filesizeformat(MAX_IMPORT_SIZE)} can be "
                "imported at once from this page. Split it into several files, or import it from a shell with "
                "manage.py import_csv."
            )
        # Lines, not parsed rows: counted in chunks without reading the file into memory (a quoted line break
        # counts twice, erring on the side of the limit).
        lines = sum(chunk.count(b"\n") for chunk in upload.chunks())
        upload.seek(0)
        if lines - 1 > MAX_IMPORT_ROWS:
            raise forms.ValidationError(
                f"The file has {lines - 1:,} rows; at most {MAX_IMPORT_ROWS:,} can be imported at once from this "
                "page. Split it into several files, or import it from a shell with manage.py import_csv."
            )
        return upload


class ImportConfirmForm(forms.Form):
    """The preview's "Import" button: the token ties it to the file this session previewed."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


# --- the relationship (seed 002) ---


class ProposeForm(forms.Form):
    reasons = forms.CharField(
        max_length=limits.ACCOUNT, label="Why stop serving this customer", widget=forms.Textarea(attrs={"rows": 3})
    )


class AttemptForm(forms.Form):
    """One documented attempt; the service says which are incomplete and whether there are enough."""

    attempted_on = forms.DateField(label="Date", required=False,
                                   widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}))
    channel = forms.ChoiceField(
        label="How", required=False, choices=[("", "Choose…"), *DoNotServiceAttempt.Channel.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    what_happened = forms.CharField(max_length=limits.NOTE, label="What happened", required=False,
                                    widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))


# absolute_max: a post claiming more attempts is refused before their forms are built (see NewRecommendationFormSet).
AttemptFormSet = forms.formset_factory(AttemptForm, extra=3, max_num=10, absolute_max=10)


class BookedJobForm(forms.Form):
    reason = forms.CharField(max_length=limits.NOTE, label="Why", widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    note = forms.CharField(
        max_length=limits.NOTE, label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        max_length=limits.NOTE, label="Why serve the customer again", widget=forms.Textarea(attrs={"rows": 2})
    )


class AbusiveCallForm(forms.Form):
    warned = forms.BooleanField(
        label="I warned the customer before ending the call", required=False,
    )
    what_happened = forms.CharField(
        max_length=limits.NOTE, label="What happened", widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewRequestSettingsForm(forms.ModelForm):
    """How the company asks for reviews; validation only (customers/reviews.py writes)."""

    review_url = forms.URLField(
        label="Review link", required=False, assume_scheme="https",
        help_text="Where customers leave a review (Google, Yelp...). No link, no request.",
    )

    class Meta:
        from .models import ReviewRequestSettings

        model = ReviewRequestSettings
        fields = ["review_url", "days_after", "channel", "cooldown_days", "paused"]
        help_texts = {"channel": "Texts join once texting exists."}

    def clean_days_after(self):
        days = self.cleaned_data["days_after"]
        if days > 60:
            raise forms.ValidationError("At most 60 days: later than that the visit is forgotten.")
        return days
