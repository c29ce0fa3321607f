"""Free text has a length that fits it, in the form and in the database (a 2,000,000-character problem was stored and
its callback page weighed 4 MB)."""

import inspect

import pytest
from django import forms
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.urls import reverse

from callbacks import forms as callback_forms
from callbacks import services as callback_services
from callbacks.follow_ups import forms as call_forms
from callbacks.models import Callback, Urgency
from customers import forms as customer_forms
from recommendations import forms as recommendation_forms
from servicedesk import limits
from tests.callbacks.factories import CompletedJobFactory

HUGE = "x" * 2_000_000
OUR_APPS = ("customers", "recommendations", "callbacks")


def our_text_fields():
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.TextField):
                    yield model, field


def test_every_text_field_has_a_length_the_database_enforces():
    fields = list(our_text_fields())
    assert len(fields) > 20

    for model, field in fields:
        assert field.max_length in (limits.NOTE, limits.ACCOUNT, limits.RECORD), (model, field.name)
        names = {constraint.name for constraint in model._meta.constraints}
        assert f"{model._meta.app_label}_{model._meta.model_name}_{field.name}_max_length" in names, (model, field.name)


def test_every_text_box_of_the_staffs_forms_has_a_length():
    form_classes = [
        value for module in (customer_forms, callback_forms, call_forms, recommendation_forms)
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, forms.BaseForm) and value.__module__ == module.__name__
    ]
    unlimited = [
        f"{form_class.__name__}.{name}"
        for form_class in form_classes
        for name, field in form_class.base_fields.items()
        if type(field) is forms.CharField and not field.max_length and not isinstance(field.widget, forms.HiddenInput)
    ]

    assert unlimited == []


@pytest.mark.django_db
def test_a_two_million_character_problem_is_a_form_error_and_nothing_is_stored(client_for, csr):
    job = CompletedJobFactory()

    response = client_for(csr).post(reverse("callbacks:new"), {
        "customer": job.customer.pk, "job": job.pk, "problem": HUGE, "channel": "phone", "urgency": "normal",
    })

    assert response.status_code == 200
    assert f"Ensure this value has at most {limits.ACCOUNT:,}".replace(",", "") in response.content.decode().replace(
        ",", ""
    )
    assert not Callback.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_an_overlong_problem_whatever_path_writes_it(csr):
    job = CompletedJobFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        callback_services.callback_log(
            job=job, problem="x" * (limits.ACCOUNT + 1), channel="phone", urgency=Urgency.NORMAL, logged_by=csr
        )

    callback_services.callback_log(
        job=job, problem="x" * limits.ACCOUNT, channel="phone", urgency=Urgency.NORMAL, logged_by=csr
    )
    assert Callback.objects.count() == 1
