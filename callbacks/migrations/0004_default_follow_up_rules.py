from django.db import migrations

# Copied, not imported: a migration must keep writing what it wrote even if the model's defaults change.
DEFAULT_FOLLOW_UP_DAYS = {
    "service_call": 2,
    "maintenance": 3,
    "install": 7,
    "estimate": None,
    "callback_revisit": None,
}


def create_rules(apps, schema_editor):
    FollowUpRule = apps.get_model("callbacks", "FollowUpRule")
    for kind, days in DEFAULT_FOLLOW_UP_DAYS.items():
        FollowUpRule.objects.get_or_create(job_kind=kind, defaults={"days_after": days})


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0003_follow_up_calls")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
