import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from aid_alliance.migration_ops import drop_field_index


class Migration(migrations.Migration):
    """The access record's application and user lose their single-column indexes: the
    indexes (application, -at) and (user, -at) lead with them and serve the same look-ups
    (the foreign keys' checks and cascades included), and each index was one more write for
    every row of every staff page: a list page writes 25 (issue 18).

    Only the indexes are dropped, CONCURRENTLY on PostgreSQL: an AlterField would also drop
    and add the foreign keys again, locking the applications, the users and this, the
    largest table, until the migration commits (aid_alliance.migration_ops)."""

    atomic = False

    dependencies = [
        ("cases", "0018_review_info_requested_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_field_index("cases", "accessrecord", "application"),
                drop_field_index("cases", "accessrecord", "user"),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="accessrecord",
                    name="application",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="access_records",
                        to="cases.application",
                    ),
                ),
                migrations.AlterField(
                    model_name="accessrecord",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
