from django import forms
from django.template.defaultfilters import filesizeformat

from servicedesk import limits

from .importing import KIND_CHOICES

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
    attempts = forms.CharField(max_length=limits.ACCOUNT,
        label="Attempts made to keep them", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Dates and what was tried: calls, revisits, managers' calls, calls ended for abuse after a warning.",
    )


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
