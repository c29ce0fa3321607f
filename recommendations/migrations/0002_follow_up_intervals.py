from django.contrib.auth.management import create_permissions
from django.db import migrations

# Days between follow-ups by risk; managers change them on the follow-up intervals page.
DEFAULT_DAYS = {"failure_likely": 7, "should_be_done": 30, "advisory": 90}

# What each role may do in the admin; the app's own pages check roles and objects too.
GRANTS = {
    "Manager": {"followupinterval": ["view", "change"], "recommendation": ["view"], "discussion": ["view"]},
    "CSR": {"recommendation": ["view"], "discussion": ["view"]},
}


def seed(apps, schema_editor):
    FollowUpInterval = apps.get_model("recommendations", "FollowUpInterval")
    for risk, days in DEFAULT_DAYS.items():
        FollowUpInterval.objects.get_or_create(risk=risk, defaults={"days": days})

    app_config = apps.get_app_config("recommendations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="recommendations", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0001_initial"),
        ("servicedesk", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
