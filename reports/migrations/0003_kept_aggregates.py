"""The report aggregates are kept by the services from now on (reports/aggregates.py): new
tables with unique, NULL-free group keys and the applications' shares. The old rows and
stamp go with the old tables: the report reads the live tables until the first
`manage.py rebuild_report_aggregates`."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_report_aggregates"),
    ]

    operations = [
        migrations.DeleteModel(name="AggregateStamp"),
        migrations.DeleteModel(name="ApplicationFigure"),
        migrations.DeleteModel(name="ReviewFigure"),
        migrations.DeleteModel(name="PledgeFigure"),
        migrations.DeleteModel(name="ApplicationTiming"),
        migrations.CreateModel(
            name="AggregateStamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rebuilt_at", models.DateTimeField()),
                ("seconds", models.FloatField()),
            ],
        ),
        migrations.CreateModel(
            name="ApplicationShare",
            fields=[
                ("application_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("groups", models.JSONField(default=list)),
            ],
        ),
        migrations.CreateModel(
            name="ApplicationFigure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.IntegerField()),
                ("member_id", models.BigIntegerField()),
                ("category_id", models.BigIntegerField()),
                ("province", models.CharField(max_length=2)),
                ("received", models.IntegerField()),
                ("routed", models.IntegerField()),
                ("funded", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "member_id", "category_id", "province"),
                        name="reports_appfig_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ReviewFigure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.IntegerField()),
                ("member_id", models.BigIntegerField()),
                ("state", models.CharField(max_length=20)),
                ("decline_reason", models.CharField(max_length=30)),
                ("count", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "member_id", "state", "decline_reason"),
                        name="reports_reviewfig_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PledgeFigure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.IntegerField()),
                ("member_id", models.BigIntegerField()),
                ("project_id", models.BigIntegerField()),
                ("category_id", models.BigIntegerField()),
                ("province", models.CharField(max_length=2)),
                ("child_id", models.BigIntegerField()),
                ("pledges", models.IntegerField()),
                ("pledged", models.DecimalField(decimal_places=2, max_digits=16)),
                ("paid", models.DecimalField(decimal_places=2, max_digits=16)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "member_id", "project_id", "category_id", "province", "child_id"),
                        name="reports_pledgefig_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ApplicationTiming",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.IntegerField()),
                ("application_id", models.BigIntegerField(unique=True)),
                ("submitted_at", models.DateTimeField()),
                ("decided_at", models.DateTimeField(null=True)),
                ("paid_on", models.DateField(null=True)),
                ("decision_us", models.BigIntegerField(null=True)),
                ("payment_days", models.IntegerField(null=True)),
            ],
            options={
                "indexes": [models.Index(fields=["month"], name="reports_timing_month")],
            },
        ),
    ]
