import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

BATCH = 2000


def check_pending_constraints_now(apps, schema_editor):
    """As in 0015: PostgreSQL alters no table with deferred checks pending in the transaction; run them now."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def defer_constraints_again(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def keep_one_training_item_per_callback_and_cause(apps, schema_editor):
    """A callback resolved twice with the same cause made two items; keep one (a done one if any, else the first)."""
    TrainingItem = apps.get_model("callbacks", "TrainingItem")
    duplicated = (
        TrainingItem.objects.values("callback_id", "root_cause")
        .annotate(n=models.Count("pk")).filter(n__gt=1).values_list("callback_id", "root_cause")
    )
    extra = []
    for callback_id, root_cause in duplicated:
        items = TrainingItem.objects.filter(callback_id=callback_id, root_cause=root_cause).order_by(
            models.F("done_on").asc(nulls_last=True), "pk"
        )
        extra += list(items.values_list("pk", flat=True)[1:])
    TrainingItem.objects.filter(pk__in=extra).delete()


def record_each_callbacks_cost_so_far(apps, schema_editor):
    """Until now a callback kept the cost of its last resolution only: that cost becomes its one RevisitCost row."""
    Callback = apps.get_model("callbacks", "Callback")
    RevisitCost = apps.get_model("callbacks", "RevisitCost")
    costed = (
        Callback.objects.filter(models.Q(labour_hours__isnull=False) | models.Q(parts_cost__isnull=False))
        .order_by("pk")
        .values_list("pk", "revisit_job_id", "labour_hours", "parts_cost", "resolved_at", "resolved_by_id", "logged_at")
    )
    rows = []
    for pk, revisit_job_id, labour_hours, parts_cost, resolved_at, resolved_by_id, logged_at in costed.iterator(BATCH):
        rows.append(RevisitCost(callback_id=pk, revisit_job_id=revisit_job_id, labour_hours=labour_hours,
                                parts_cost=parts_cost, recorded_at=resolved_at or logged_at,
                                recorded_by_id=resolved_by_id))
        if len(rows) == BATCH:
            RevisitCost.objects.bulk_create(rows)
            rows = []
    RevisitCost.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0016_revisit_done'),
        ('customers', '0007_site_type_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(check_pending_constraints_now, defer_constraints_again, elidable=True),
        migrations.AddField(
            model_name='callback',
            name='earlier_no_charge_revisits',
            field=models.PositiveSmallIntegerField(editable=False, null=True),
        ),
        migrations.CreateModel(
            name='RevisitCost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('labour_hours', models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True)),
                ('parts_cost', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('callback', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='revisit_costs', to='callbacks.callback')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('revisit_job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.job')),
            ],
            options={
                'ordering': ['recorded_at', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('callback', 'revisit_job'), name='revisit_cost_once_per_revisit')],
            },
        ),
        migrations.RunPython(record_each_callbacks_cost_so_far, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(keep_one_training_item_per_callback_and_cause, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='trainingitem',
            constraint=models.UniqueConstraint(fields=('callback', 'root_cause'), name='training_item_once_per_callback_cause'),
        ),
        migrations.RunPython(defer_constraints_again, check_pending_constraints_now, elidable=True),
    ]
