# The recovery step "acknowledged" (let the customer vent) becomes "listened": "acknowledged" stays the name of the
# callback's state once the first contact is made, and one word named both.

import importlib

from django.db import migrations, models

# The steps_done triggers as callbacks 0008 installed them, mapping the old key to its bit.
steps_done_0008 = importlib.import_module("callbacks.migrations.0008_callback_steps_done")


def _rename(schema_editor, old, new):
    schema_editor.execute("UPDATE callbacks_recoverystep SET step = %s WHERE step = %s", params=[new, old])


def forward(apps, schema_editor):
    # The 0008 triggers would recount a "listened" step as no bit: they go first. The new key keeps the old key's
    # bit, so the masks stay right; the triggers declared in servicedesk/triggers.py (which map "listened") are
    # installed once the migrate ends (its post_migrate handler, servicedesk/apps.py).
    steps_done_0008.uninstall(apps, schema_editor)
    _rename(schema_editor, "acknowledged", "listened")


def backward(apps, schema_editor):
    steps_done_0008.uninstall(apps, schema_editor)  # the declared triggers bear the same names
    _rename(schema_editor, "listened", "acknowledged")
    steps_done_0008.install(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0010_callback_rollup_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='recoverystep',
            name='step',
            field=models.CharField(choices=[('apologised', 'Apologised for the problem'), ('listened', "Listened to the problem in the customer's words (let them vent)"), ('apologised_again', 'Apologised again'), ('fix_explained', 'Fix explained to the customer'), ('urgency_set', 'Urgency target set with the customer'), ('solution_reviewed', 'Solution reviewed with the customer on site'), ('anything_else', '“Is there anything else we can do for you?” asked'), ('other_work', 'Other work opportunities asked')], max_length=20),
        ),
        migrations.RunPython(forward, backward),
    ]
