import django_filters
from django import forms
from django.utils import timezone

from servicedesk.people import name_choices

from .forms import technicians
from .models import Callback, Urgency

OPEN = ""
ALL = "all"


class CallbackFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label="Status", method="filter_state", empty_label="Open (any status but closed)",
        choices=[*Callback.State.choices, (ALL, "All, closed too")],
    )
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, empty_label="Any urgency")
    # (id, name) pairs rather than a model choice: that one reads whole users through a server-side cursor
    # and a model per option, on the CSR's most used page (issue 8).
    technician = django_filters.ChoiceFilter(
        label="Technician", choices=lambda: name_choices(technicians()), method="filter_technician",
        empty_label="Any technician",
    )
    overdue = django_filters.BooleanFilter(label="Overdue", method="filter_overdue",
                                           widget=forms.Select(choices=[("", "Overdue or not"), ("true", "Overdue"),
                                                                        ("false", "Not overdue")]))
    repeat = django_filters.BooleanFilter(field_name="is_repeat", label="Repeat",
                                          widget=forms.Select(choices=[("", "Repeat or not"), ("true", "Repeats only"),
                                                                       ("false", "First callbacks only")]))

    class Meta:
        model = Callback
        fields = ["state", "urgency", "technician", "overdue", "repeat"]

    @property
    def qs(self):
        queryset = super().qs
        chosen = self.form.cleaned_data if self.form.is_bound and self.form.is_valid() else {}
        # The default view is the work still to do; "all" and each state are explicit choices. Overdue callbacks
        # are open already: saying it twice, PostgreSQL counts the condition twice, expects a single row and
        # joins every overdue callback before sorting instead of stopping at the page.
        if not chosen.get("state") and chosen.get("overdue") is not True:
            queryset = queryset.open()
        return queryset

    def filter_state(self, queryset, name, value):
        if value == ALL:
            return queryset
        return queryset.filter(state=value)

    def filter_technician(self, queryset, name, value):
        return queryset.for_technician(value)

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        if value:
            return queryset.overdue(now)
        return queryset.exclude(due_at__lt=now, state__in=[s for s in Callback.State.values if s != "closed"])
