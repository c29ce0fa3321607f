"""The clocks issue 23 gives the targets by default: an emergency around the clock, high and normal in business
hours (the company's opening hours, less holidays and closures). Callbacks already logged keep the due times they
were promised; only callbacks logged from now on are counted on the new clocks. Managers switch any target back on
the targets page."""

from django.db import migrations

IN_BUSINESS_HOURS = ["high", "normal"]


def business_hours_for_high_and_normal(apps, schema_editor):
    UrgencyTarget = apps.get_model("callbacks", "UrgencyTarget")
    UrgencyTarget.objects.filter(urgency__in=IN_BUSINESS_HOURS).update(business_hours=True)


def around_the_clock(apps, schema_editor):
    UrgencyTarget = apps.get_model("callbacks", "UrgencyTarget")
    UrgencyTarget.objects.filter(urgency__in=IN_BUSINESS_HOURS).update(business_hours=False)


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0025_pauses")]

    operations = [migrations.RunPython(business_hours_for_high_and_normal, around_the_clock)]
