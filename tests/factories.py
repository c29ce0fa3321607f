from datetime import timedelta

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from customers.models import Customer, Equipment, Job, Site
from customers.phones import phone_digits
from servicedesk import roles


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("demo")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.add(Group.objects.get_or_create(name=extracted)[0])


class TechnicianFactory(UserFactory):
    username = factory.Sequence(lambda n: f"tech{n}")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create:
            user.groups.add(Group.objects.get_or_create(name=extracted or roles.TECHNICIAN)[0])


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"(555) {n // 10000 % 1000:03d}-{n % 10000:04d}")
    phone_digits = factory.LazyAttribute(lambda c: phone_digits(c.phone))
    email = factory.LazyAttribute(lambda c: f"{c.name.lower().replace(' ', '.')}@example.com")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    customer = factory.SubFactory(CustomerFactory)
    street = factory.Faker("street_address")
    city = "Springfield"
    state = "IL"
    postal_code = "62701"


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    site = factory.SubFactory(SiteFactory)
    kind = Equipment.Kind.FURNACE
    make = "Carrier"
    model_number = "59SC5"


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job
        skip_postgeneration_save = True

    site = factory.SubFactory(SiteFactory)
    customer = factory.LazyAttribute(lambda job: job.site.customer)
    kind = Job.Kind.SERVICE_CALL
    scheduled_start = factory.LazyFunction(lambda: timezone.now().replace(minute=0, second=0, microsecond=0))
    scheduled_end = factory.LazyAttribute(lambda job: job.scheduled_start + timedelta(hours=2))
    lead_technician = factory.SubFactory(TechnicianFactory)
    invoice_number = factory.Sequence(lambda n: f"INV-{10000 + n}")

    class Params:
        completed = factory.Trait(
            status=Job.Status.COMPLETED,
            completed_at=factory.LazyAttribute(lambda job: job.scheduled_end),
        )
