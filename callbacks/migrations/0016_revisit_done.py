from django.db import migrations, models


def check_pending_constraints_now(apps, schema_editor):
    """PostgreSQL refuses to alter a table while deferred constraint checks on it are pending, which they are when
    rows were written earlier in the same transaction (a migrate run inside one, as the test suite's migrating back
    and forth): run those checks now, as a commit would."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def defer_constraints_again(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0015_remove_review_gating'),
    ]

    operations = [
        migrations.RunPython(check_pending_constraints_now, defer_constraints_again, elidable=True),
        migrations.AddField(
            model_name='callback',
            name='revisit_done_at',
            field=models.DateTimeField(blank=True, help_text='When the revisit job was completed, whoever completed it and however.', null=True),
        ),
        migrations.AlterField(
            model_name='callback',
            name='state',
            field=models.CharField(choices=[('new', 'New'), ('acknowledged', 'Acknowledged'), ('revisit_scheduled', 'Revisit scheduled'), ('revisit_done', 'Revisit done, awaiting resolution'), ('resolved', 'Resolved'), ('closed', 'Closed')], default='new', max_length=20),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='action',
            field=models.CharField(choices=[('logged', 'Logged'), ('escalated', 'Escalated to managers'), ('acknowledged', 'Acknowledged'), ('revisit_scheduled', 'Revisit scheduled'), ('revisit_done', 'Revisit done'), ('resolved', 'Resolved'), ('closed', 'Closed — customer confirmed'), ('reopened', 'Reopened'), ('handed_off', 'Handed off'), ('contact', 'Customer contact'), ('step', 'Recovery step'), ('training', 'Training item'), ('taken', 'Taken from the triage queue')], max_length=20),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='from_state',
            field=models.CharField(blank=True, choices=[('new', 'New'), ('acknowledged', 'Acknowledged'), ('revisit_scheduled', 'Revisit scheduled'), ('revisit_done', 'Revisit done, awaiting resolution'), ('resolved', 'Resolved'), ('closed', 'Closed')], max_length=20),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='to_state',
            field=models.CharField(blank=True, choices=[('new', 'New'), ('acknowledged', 'Acknowledged'), ('revisit_scheduled', 'Revisit scheduled'), ('revisit_done', 'Revisit done, awaiting resolution'), ('resolved', 'Resolved'), ('closed', 'Closed')], max_length=20),
        ),
        migrations.RunPython(defer_constraints_again, check_pending_constraints_now, elidable=True),
    ]
