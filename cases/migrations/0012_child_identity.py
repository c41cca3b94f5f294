"""One child, one identity; each application its own copy of section A (issue 14).

Until now a child record was shared by every application linked to it, so one member's
edit of section A renamed another member's child, and linking showed another member's
unshared details. Each application now keeps its own Child row; the rows of one child
share a ChildIdentity, which holds no personal data.

The identities are made with the ids of today's child records (one INSERT … SELECT, fast
at a million rows); a record shared by several applications is copied for every
application but the first.
"""

import django.db.models.deletion
from django.db import migrations, models


def identities_for_records(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_childidentity (id, id_number_hash, created_at) "
            "SELECT id, NULL, created_at FROM cases_child"
        )
        cursor.execute("UPDATE cases_child SET identity_id = id")
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cases_childidentity', 'id'), "
                "COALESCE((SELECT MAX(id) FROM cases_childidentity), 0) + 1, false)"
            )
    Application = apps.get_model("cases", "Application")
    Child = apps.get_model("cases", "Child")
    shared = (
        Application.objects.values("child_id")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .values_list("child_id", flat=True)
    )
    for child_id in list(shared):
        applications = Application.objects.filter(child_id=child_id).order_by("pk")
        for application in list(applications)[1:]:
            copy = Child.objects.get(pk=child_id)  # decrypted, then encrypted again on save
            copy.pk = None
            copy.save()
            Application.objects.filter(pk=application.pk).update(child_id=copy.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_review_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChildIdentity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "id_number_hash",
                    models.CharField(blank=True, max_length=64, null=True, unique=True),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
            ],
            options={
                "verbose_name": "child identity",
                "verbose_name_plural": "child identities",
            },
        ),
        migrations.AddField(
            model_name="child",
            name="identity",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="records",
                to="cases.childidentity",
                verbose_name="child",
            ),
        ),
        migrations.RunPython(identities_for_records, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="child",
            name="identity",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="records",
                to="cases.childidentity",
                verbose_name="child",
            ),
        ),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.UniqueConstraint(
                fields=("child",), name="cases_application_own_child_record"
            ),
        ),
        migrations.AddIndex(
            model_name="guardian",
            index=models.Index(fields=["phone"], name="cases_guardian_phone"),
        ),
    ]
