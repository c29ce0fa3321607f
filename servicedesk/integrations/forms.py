from django import forms

from .models import ApiToken, Integration


class IntegrationForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="E.g. the dispatch system's name, or \"Zapier\".")
    kind = forms.ChoiceField(choices=Integration.Kind.choices, initial=Integration.Kind.GENERIC)


class ApiTokenForm(forms.Form):
    label = forms.CharField(max_length=100, help_text="What will use it, e.g. \"nightly sync script\".")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect,
        help_text="Read is enough for reports and dashboards elsewhere; read and write sends jobs in.",
    )
