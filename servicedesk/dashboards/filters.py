"""The date range and filters every dashboard shares, and the scope of jobs they select."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from customers.models import Job, Site
from servicedesk import roles

# Revisits are the callbacks' own repair visits: they cannot come back as a new callback (a failed revisit
# reopens its callback), so counting them as jobs would dilute the callback rate.
JOB_KINDS = [(value, label) for value, label in Job.Kind.choices if value != Job.Kind.CALLBACK_REVISIT]
MAX_RANGE = timedelta(days=5 * 366)


def technicians():
    return (
        get_user_model()
        .objects.filter(groups__name=roles.TECHNICIAN)
        .order_by("first_name", "last_name", "username")
    )


class TechnicianChoice(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


class RangeForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, today=None):
        today = today or timezone.localdate()
        self.default_end = today
        self.default_start = _a_year_before(today) + timedelta(days=1)
        # Missing fields take their defaults, so `?technician=7` alone is a valid query.
        data = {key: value for key, value in (data or {}).items() if value not in ("", None)}
        data.setdefault("start", self.default_start.isoformat())
        data.setdefault("end", self.default_end.isoformat())
        super().__init__(data)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The range must end on or after its first day.")
            elif end - start > MAX_RANGE:
                self.add_error("start", "Choose a range of at most five years.")
        return cleaned

    def period(self):
        """(start, end) as aware datetimes, end exclusive; the defaults when the form is not valid."""
        if self.is_valid():
            first, last = self.cleaned_data["start"], self.cleaned_data["end"]
        else:
            first, last = self.default_start, self.default_end
        return _midnight(first), _midnight(last + timedelta(days=1))


class DashboardFilterForm(RangeForm):
    technician = TechnicianChoice(queryset=technicians(), required=False, empty_label="All technicians")
    kind = forms.ChoiceField(label="Job kind", choices=[("", "All kinds"), *JOB_KINDS], required=False)
    site_type = forms.ChoiceField(label="Site type", choices=[("", "All sites"), *Site.SiteType.choices],
                                  required=False)

    def __init__(self, data=None, *, today=None):
        super().__init__(data, today=today)
        self.fields["technician"].queryset = technicians()

    def scope(self):
        start, end = self.period()
        if not self.is_valid():
            return Scope(start=start, end=end)
        return Scope(
            start=start,
            end=end,
            technician=self.cleaned_data["technician"],
            kind=self.cleaned_data["kind"],
            site_type=self.cleaned_data["site_type"],
        )


@dataclass(frozen=True)
class Scope:
    """Completed jobs in [start, end) matching the filters. Every callback figure is about these jobs."""

    start: datetime
    end: datetime
    technician: object = None
    kind: str = ""
    site_type: str = ""

    def jobs(self):
        # status + completed_at range first: the (status, completed_at) index answers it.
        jobs = Job.objects.filter(
            status=Job.Status.COMPLETED, completed_at__gte=self.start, completed_at__lt=self.end
        ).exclude(kind=Job.Kind.CALLBACK_REVISIT)
        return self.filter_jobs(jobs, prefix="")

    def filter_jobs(self, queryset, *, prefix):
        """The technician, kind and site type filters on `queryset`, whose job is reached through `prefix`."""
        if self.technician is not None:
            queryset = queryset.filter(technician_condition(self.technician, prefix=prefix))
        if self.kind:
            queryset = queryset.filter(**{f"{prefix}kind": self.kind})
        if self.site_type:
            queryset = queryset.filter(**{f"{prefix}site__site_type": self.site_type})
        return queryset

    def in_range(self, queryset, *, prefix):
        """Rows whose job was completed in the range and matches the filters."""
        queryset = queryset.filter(
            **{
                f"{prefix}status": Job.Status.COMPLETED,
                f"{prefix}completed_at__gte": self.start,
                f"{prefix}completed_at__lt": self.end,
            }
        ).exclude(**{f"{prefix}kind": Job.Kind.CALLBACK_REVISIT})
        return self.filter_jobs(queryset, prefix=prefix)

    def callbacks_in_range(self, queryset):
        """The callbacks of `queryset` whose job was completed in the range and matches the filters: in_range
        with prefix "job__", read from the job's facts kept on the callback (Callback.job_*) rather than by a
        look-up per callback into the jobs. The site type is the callback's own site's, which is its job's."""
        queryset = queryset.filter(
            job_status=Job.Status.COMPLETED, job_completed_at__gte=self.start, job_completed_at__lt=self.end
        ).exclude(job_kind=Job.Kind.CALLBACK_REVISIT)
        return self.filter_callbacks(queryset)

    def filter_callbacks(self, queryset):
        """filter_jobs for callbacks, read from the job's facts kept on the callback: a technician's callbacks
        without joining the jobs (~100 ms for the open ones at a large contractor)."""
        if self.technician is not None:
            queryset = queryset.filter(callback_technician_condition(self.technician))
        if self.kind:
            queryset = queryset.filter(job_kind=self.kind)
        if self.site_type:
            queryset = queryset.filter(site__site_type=self.site_type)
        return queryset

    @property
    def kind_label(self):
        return Job.Kind(self.kind).label if self.kind else ""

    @property
    def site_type_label(self):
        return Site.SiteType(self.site_type).label.lower() if self.site_type else ""

    def whole_weeks(self):
        """(first, last) Monday of the weeks wholly inside the range, for `week__range`: the weeks a rollup may
        answer (the partial weeks at either end are counted live)."""
        first, last = self.first_day, self.last_day
        return first + timedelta(days=-first.weekday() % 7), last - timedelta(days=6)

    def outside(self, weeks):
        """[start, end) datetimes of the range not covered by `weeks` (sorted Mondays inside the range): what a
        page counts live around the weeks it reads from a rollup."""
        intervals, cursor = [], self.start
        for week in weeks:
            start = _midnight(week)
            if start > cursor:
                intervals.append((cursor, start))
            cursor = _midnight(week + timedelta(weeks=1))
        if cursor < self.end:
            intervals.append((cursor, self.end))
        return intervals

    @property
    def first_day(self):
        return timezone.localtime(self.start).date()

    @property
    def last_day(self):
        return timezone.localtime(self.end).date() - timedelta(days=1)


def technician_condition(technician, *, prefix):
    """The jobs (reached through `prefix`) the technician led or helped on."""
    helped = Job.helpers.through.objects.filter(user=technician).values("job_id")
    return Q(**{f"{prefix}lead_technician": technician}) | Q(**{f"{prefix}pk__in": helped})


def callback_technician_condition(technician):
    """technician_condition for callbacks: on jobs the technician led (the lead kept on the callback,
    Callback.job_lead_id) or helped on."""
    helped = Job.helpers.through.objects.filter(user=technician).values("job_id")
    return Q(job_lead_id=technician.pk) | Q(job_id__in=helped)


def _midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def _a_year_before(day):
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # February 29th
        return date(day.year - 1, 2, 28)
