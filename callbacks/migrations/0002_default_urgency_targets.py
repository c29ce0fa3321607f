from datetime import timedelta

from django.db import migrations

# Starting targets (first contact within, revisit within); managers change them on the urgency targets page.
DEFAULTS = {
    "emergency": (timedelta(hours=1), timedelta(hours=4)),
    "high": (timedelta(hours=4), timedelta(hours=24)),
    "normal": (timedelta(hours=24), timedelta(hours=72)),
}


def create_targets(apps, schema_editor):
    UrgencyTarget = apps.get_model("callbacks", "UrgencyTarget")
    for urgency, (first_contact_within, revisit_within) in DEFAULTS.items():
        UrgencyTarget.objects.get_or_create(
            urgency=urgency, defaults={"first_contact_within": first_contact_within, "revisit_within": revisit_within}
        )


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0001_initial")]

    operations = [migrations.RunPython(create_targets, migrations.RunPython.noop)]
