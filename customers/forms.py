from django import forms
from django.template.defaultfilters import filesizeformat

from .importing import KIND_CHOICES

# 10,000 jobs with summaries are about 2 MB; this leaves room for large histories without holding a huge upload.
MAX_IMPORT_SIZE = 25 * 1024 * 1024


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
                "imported at once. Split it into several files."
            )
        return upload


class ImportConfirmForm(forms.Form):
    """The preview's "Import" button: the token ties it to the file this session previewed."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
