"""Forms only validate; the services in services.py do the writing."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model

from customers.models import Job
from customers.phones import phone_digits
from servicedesk import limits, roles

from .models import Callback, CustomerContact, RecoveryStep, Urgency
from .selectors import loggable_jobs
from .windows import outside_window

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def technicians():
    return get_user_model().objects.filter(groups__name=roles.TECHNICIAN, is_active=True).order_by(
        "first_name", "last_name", "pk").distinct()


def office_staff():
    return get_user_model().objects.filter(groups__name__in=roles.OFFICE, is_active=True).order_by(
        "first_name", "last_name", "pk").distinct()


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class JobChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, job):
        when = job.completed_at or job.scheduled_start
        who = job.lead_technician.get_full_name() if job.lead_technician else "no technician"
        what = f" · {job.equipment}" if job.equipment_id else ""
        number = job.invoice_number or job.pk
        return f"{when:%b %d, %Y} — {job.get_kind_display()} #{number} · {job.site.street}{what} · {who}"


class NewCustomerForm(forms.Form):
    name = forms.CharField(max_length=200)
    phone = forms.CharField(max_length=40)
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)

    def clean_phone(self):
        # A phone number has at most 15 digits (E.164); more would not fit the customer's searchable digits either.
        phone = self.cleaned_data["phone"]
        if not 7 <= len(phone_digits(phone)) <= 15:
            raise forms.ValidationError("Write a phone number the customer can be reached at.")
        return phone


class CallbackLogForm(forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    job = JobChoiceField(queryset=Job.objects.none(), widget=forms.RadioSelect, required=False, empty_label=None,
                         label="Which job is it about?")
    problem = forms.CharField(
        max_length=limits.ACCOUNT, widget=forms.Textarea(attrs={"rows": 3}), label="Problem, in the customer's words"
    )
    channel = forms.ChoiceField(choices=Callback.Channel.choices, initial=Callback.Channel.PHONE,
                                widget=forms.RadioSelect)
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.NORMAL, widget=forms.RadioSelect)
    is_callback = forms.ChoiceField(
        choices=[("confirmed", "Confirmed callback"), ("potential", "Potential — to be confirmed on site")],
        initial="confirmed", required=False, widget=forms.RadioSelect, label="Is it our work coming back?",
        help_text="Potential: worked the same way, counted on nobody's callback rate until the technician or the "
                  "office classifies it after diagnosis.",
    )

    def __init__(self, *args, customer=None, jobs=None, picked=None, has_jobs=None, **kwargs):
        """`jobs`: the jobs to list (the recent ones, or those a search of all the customer's jobs found); any of
        the customer's jobs is accepted. `picked`: the job to choose for the CSR, listed first if not among them.
        `has_jobs`: whether the customer has any job at all (by default, whether `jobs` lists one)."""
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.jobs = list(jobs) if jobs is not None else []
        if picked is not None and picked not in self.jobs:
            self.jobs.insert(0, picked)
        self.has_jobs = bool(self.jobs) if has_jobs is None else has_jobs
        # Past its kind's recall window, a new problem is not presumed ours: potential is proposed, and why.
        self.recall_note = outside_window(picked) if picked is not None else ""
        if self.recall_note:
            self.fields["is_callback"].initial = "potential"
        if customer is not None:
            # The customer is found: the CSR types next what the caller is saying.
            self.fields["problem"].widget.attrs["autofocus"] = True
            self.fields["customer"].initial = customer.pk
            self.fields["job"].queryset = loggable_jobs(customer)
            if picked is not None:
                self.fields["job"].initial = picked.pk
        # A job posted from a search of all the customer's jobs is listed again if the form comes back with errors.
        posted = self.data.get("job") if self.is_bound else None
        if customer is not None and posted and str(posted).isdigit() and len(str(posted)) <= 18:
            if all(str(job.pk) != posted for job in self.jobs):
                self.jobs[:0] = list(loggable_jobs(customer).filter(pk=posted))
        self.fields["job"].choices = [(job.pk, self.fields["job"].label_from_instance(job)) for job in self.jobs]

    def clean(self):
        cleaned = super().clean()
        if self.customer is None:
            raise forms.ValidationError("Find the customer first: search by phone, name, address or invoice number.")
        if not cleaned.get("job") and "job" not in self.errors:
            if not self.has_jobs:
                self.add_error("job", (
                    f"No job on record for {self.customer.name}. A callback is about work we did: find the original "
                    "visit by its invoice number, or log the original visit first, then log the callback."
                ))
            else:
                self.add_error("job", "Pick the job this callback is about.")
        return cleaned


class NoteForm(forms.Form):
    note = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RevisitForm(forms.Form):
    technician = PersonChoiceField(queryset=technicians(), label="Technician who will fix it")
    start = forms.DateTimeField(widget=DATETIME_WIDGET)
    end = forms.DateTimeField(widget=DATETIME_WIDGET, required=False, help_text="Two hours after the start if empty.")
    no_charge = forms.BooleanField(initial=True, required=False, label="No charge to the customer")
    note = forms.CharField(max_length=limits.NOTE, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = technicians()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The visit must end after it starts.")
        return cleaned


class ResolveForm(forms.Form):
    root_cause = forms.ChoiceField(choices=Callback.RootCause.choices, widget=forms.RadioSelect,
                                   label="Honest root cause")
    resolution = forms.CharField(
        max_length=limits.ACCOUNT, widget=forms.Textarea(attrs={"rows": 2}), label="What was found and done"
    )
    faulty_part = forms.CharField(max_length=200, required=False, label="Faulty part (name or number)")
    part_supplier = forms.CharField(max_length=200, required=False, label="Supplier")
    rma_reference = forms.CharField(max_length=100, required=False, label="Return / RMA reference")
    labour_hours = forms.DecimalField(min_value=Decimal("0"), max_digits=6, decimal_places=2, required=False)
    parts_cost = forms.DecimalField(min_value=Decimal("0"), max_digits=10, decimal_places=2, required=False)
    responsible_technician = forms.TypedChoiceField(
        required=False, coerce=int, label="Responsible technician (for training)",
        help_text="For workmanship, misdiagnosis and installation causes.",
    )

    def __init__(self, *args, caused_by=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.caused_by = {user.pk: user for user in caused_by}
        self.fields["responsible_technician"].choices = [("", "The original job's lead technician")] + [
            (user.pk, user.get_full_name() or user.username) for user in caused_by
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("root_cause") == Callback.RootCause.FAULTY_PART:
            for name, label in (("faulty_part", "part name or number"), ("part_supplier", "supplier"),
                                ("rma_reference", "return / RMA reference")):
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, f"A faulty part needs its {label}: fewer than 1% of parts arrive faulty.")
        pk = cleaned.get("responsible_technician")
        cleaned["responsible_technician"] = self.caused_by.get(pk) if pk else None
        return cleaned


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("fixed", "Customer confirms it is fixed"), ("not_fixed", "Customer says it is not fixed")],
        widget=forms.RadioSelect, label="Closure call",
    )
    note = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}), required=False,
                           label="What the customer said")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == "not_fixed" and not (cleaned.get("note") or "").strip():
            self.add_error("note", "Write down what is still wrong; the callback is reopened with it.")
        return cleaned


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}))


class HandOffForm(forms.Form):
    to_user = PersonChoiceField(queryset=office_staff(), label="Hand to")
    warm = forms.TypedChoiceField(
        choices=[("1", "Warm: three-way, the customer heard me explain it"), ("0", "Cold transfer")],
        coerce=lambda value: value == "1", widget=forms.RadioSelect, label="How",
    )
    note = forms.CharField(max_length=limits.NOTE, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = office_staff()


class TriageOwnerForm(forms.Form):
    owner = PersonChoiceField(queryset=office_staff(), required=False, empty_label="Every CSR",
                              label="Who is reminded of callbacks nobody owns",
                              widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = office_staff()


class ContactForm(forms.Form):
    kind = forms.ChoiceField(choices=CustomerContact.Kind.choices, initial=CustomerContact.Kind.CALL)
    summary = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}))
    next_update_due_at = forms.DateTimeField(widget=DATETIME_WIDGET, required=False,
                                             label="Next update promised by")


class StepForm(forms.Form):
    step = forms.ChoiceField(choices=RecoveryStep.Step.choices, widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=300)
    answer = forms.ChoiceField(choices=[("", "—"), ("yes", "Yes"), ("no", "No")], required=False,
                               label="Wants other work?")
    other_work = forms.CharField(max_length=200, required=False, label="What work?")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("step") == RecoveryStep.Step.OTHER_WORK:
            if not cleaned.get("answer"):
                self.add_error("answer", "Say whether the customer wants other work.")
            elif cleaned["answer"] == "yes" and not cleaned.get("other_work", "").strip():
                self.add_error("other_work", "Describe the other work the customer asked about.")
        cleaned["answer_yes"] = {"yes": True, "no": False}.get(cleaned.get("answer"))
        return cleaned


class TrainingDoneForm(forms.Form):
    lesson = forms.CharField(max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2}), label="What is learned")


class UrgencyTargetForm(forms.Form):
    first_contact_hours = forms.DecimalField(min_value=Decimal("0.25"), max_digits=6, decimal_places=2,
                                             label="First contact within (hours)")
    revisit_hours = forms.DecimalField(min_value=Decimal("0.25"), max_digits=6, decimal_places=2,
                                       label="Revisit within (hours)")
    # Not sent: the clock stays as it is.
    clock = forms.ChoiceField(choices=[("business", "Business hours"), ("around", "Around the clock")],
                              required=False, label="Counted")

    def clean(self):
        cleaned = super().clean()
        first, revisit = cleaned.get("first_contact_hours"), cleaned.get("revisit_hours")
        if first is not None and revisit is not None and revisit < first:
            self.add_error("revisit_hours", "The revisit cannot be due before the first contact.")
        return cleaned

    def durations(self):
        return (timedelta(hours=float(self.cleaned_data["first_contact_hours"])),
                timedelta(hours=float(self.cleaned_data["revisit_hours"])))
