from django.contrib.auth.management import create_permissions
from django.db import migrations

# What each role may do with these models in the admin; the app's own pages check roles too.
GRANTS = {
    "Manager": ["add", "change", "view"],
    "CSR": ["add", "change", "view"],
    "Technician": ["view"],
    "Sales": ["view"],
}
MODELS = ["customer", "site", "equipment", "job"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("customers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, actions in GRANTS.items():
        group = Group.objects.get(name=role)
        codenames = [f"{action}_{model}" for action in actions for model in MODELS]
        group.permissions.add(*Permission.objects.filter(content_type__app_label="customers", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("servicedesk", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
