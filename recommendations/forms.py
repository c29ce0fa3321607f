"""Forms only validate; the views hand the cleaned data to the services."""

from datetime import timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from customers.models import Equipment
from servicedesk import limits, roles

from .models import PHOTO_EXTENSIONS, Discussion, FollowUpInterval, Recommendation, Risk, validate_photo


def _people_with_role(role):
    return get_user_model().objects.filter(groups__name=role, is_active=True).order_by("first_name", "last_name")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class RaiseForm(forms.Form):
    what = forms.CharField(max_length=200, label="What is recommended",
                           widget=forms.TextInput(attrs={"placeholder": "e.g. Replace the cracked heat exchanger"}))
    why = forms.CharField(max_length=limits.NOTE, required=False, label="Why", widget=forms.Textarea(attrs={"rows": 2}),
                          help_text="What you saw, and what happens if it is not done.")
    risk = forms.ChoiceField(choices=Risk.choices, widget=forms.RadioSelect)
    equipment = forms.ModelChoiceField(queryset=Equipment.objects.none(), required=False,
                                       empty_label="Not about one piece of equipment")
    price_low = forms.DecimalField(required=False, min_value=0, max_digits=10, decimal_places=2,
                                   label="Estimate from ($)")
    price_high = forms.DecimalField(required=False, min_value=0, max_digits=10, decimal_places=2,
                                    label="Estimate to ($)")

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment"].queryset = Equipment.objects.filter(site=site)

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("price_low"), cleaned.get("price_high")
        if low is not None and high is not None and low > high:
            self.add_error("price_high", "The high estimate is below the low one.")
        return cleaned


class RaiseWithPhotoForm(RaiseForm):
    photo = forms.FileField(
        required=False,
        validators=[validate_photo],
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    customer_acknowledged = forms.BooleanField(required=False, label="The customer signed the work order that lists it")

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.name.rsplit(".", 1)[-1].lower() not in PHOTO_EXTENSIONS:
            raise forms.ValidationError("The file is not a photo (JPEG, PNG, GIF, WebP or HEIC).")
        return photo


class NewRecommendationForm(RaiseForm):
    """A row of the completion page; left blank, it is ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk"].widget = forms.Select(choices=[("", "Risk…"), *Risk.choices])


class BaseNewRecommendationFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "site": self.site}

    def __init__(self, *args, site, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True,
                         use_required_attribute=False, site=self.site, renderer=self.renderer)
        self.add_fields(form, None)
        return form


# absolute_max: a post that claims more forms is refused before they are built (Django's default, 1,010, let one
# request build a thousand forms, each with the site's equipment: seconds of work from one hostile post).
NewRecommendationFormSet = forms.formset_factory(
    NewRecommendationForm, formset=BaseNewRecommendationFormSet, extra=1, max_num=10, absolute_max=10
)


class DiscussionForm(forms.Form):
    response = forms.ChoiceField(choices=Discussion.Response.choices, widget=forms.RadioSelect,
                                 label="The customer's answer")
    note = forms.CharField(max_length=limits.NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="Required when it was not discussed: say why.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("response") == Discussion.Response.NOT_DISCUSSED and not cleaned.get("note", "").strip():
            self.add_error("note", "Say why it was not discussed.")
        return cleaned


class CompleteJobForm(forms.Form):
    summary = forms.CharField(max_length=limits.RECORD, label="Work summary", widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="What was done on this visit, as it goes on the work order.")
    customer_acknowledged = forms.BooleanField(
        required=False, label="The customer signed the work order, including the recommendations raised today"
    )


class AcceptForm(forms.Form):
    scheduled_start = forms.DateTimeField(
        label="Work scheduled for", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    hours = forms.DecimalField(label="Hours", initial=2, min_value=0.5, max_value=24, decimal_places=1)
    technician = UserChoiceField(queryset=_people_with_role(roles.TECHNICIAN), required=False,
                                 empty_label="Not assigned yet")
    note = forms.CharField(max_length=limits.NOTE, required=False)

    def clean_scheduled_start(self):
        start = self.cleaned_data["scheduled_start"]
        if start < timezone.now() - timedelta(days=1):
            raise forms.ValidationError("Choose a time from today on.")
        return start


class DeclineForm(forms.Form):
    reason = forms.CharField(
        max_length=limits.NOTE, label="Why the customer declined", widget=forms.Textarea(attrs={"rows": 2})
    )


class DeferForm(forms.Form):
    until = forms.DateField(label="Defer until", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(max_length=limits.NOTE, required=False)

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise forms.ValidationError("Choose a date after today.")
        return until


class NoteForm(forms.Form):
    note = forms.CharField(max_length=limits.NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RequiredNoteForm(forms.Form):
    note = forms.CharField(max_length=limits.NOTE, label="Why", widget=forms.Textarea(attrs={"rows": 2}))


class PassToSalesForm(forms.Form):
    to = UserChoiceField(queryset=_people_with_role(roles.SALES), label="Pass to")
    note = forms.CharField(max_length=limits.NOTE, required=False)


class FollowUpIntervalForm(forms.ModelForm):
    class Meta:
        model = FollowUpInterval
        fields = ["days"]


# One row per risk, made by a migration: the page edits them and never adds one, whatever TOTAL_FORMS says.
FollowUpIntervalFormSet = forms.modelformset_factory(
    FollowUpInterval, form=FollowUpIntervalForm, extra=0, edit_only=True, max_num=10, absolute_max=10
)


class RecommendationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search",
                                  widget=forms.TextInput(attrs={"type": "search", "placeholder": "Customer or work"}))
    state = django_filters.ChoiceFilter(choices=Recommendation.State.choices, empty_label="Open or deferred",
                                        method="filter_state")
    risk = django_filters.ChoiceFilter(choices=Risk.choices, empty_label="Any risk")
    owner = django_filters.ModelChoiceFilter(
        queryset=lambda request: get_user_model().objects.filter(
            groups__name__in=[roles.TECHNICIAN, roles.SALES, roles.CSR, roles.MANAGER]
        ).distinct().order_by("first_name", "last_name"),
        empty_label="Any owner",
    )
    overdue = django_filters.BooleanFilter(label="Follow-up overdue", method="filter_overdue")
    passed_to_sales = django_filters.BooleanFilter(label="Passed to sales", method="filter_passed")

    class Meta:
        model = Recommendation
        fields = ["q", "state", "risk", "owner", "overdue", "passed_to_sales"]

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.open()
        return queryset

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(customer__name__icontains=value) | Q(what__icontains=value)) if value else queryset

    def filter_state(self, queryset, name, value):
        return queryset.filter(state=value)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(next_follow_up_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_passed(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(passed_to_sales_at__isnull=not value)
