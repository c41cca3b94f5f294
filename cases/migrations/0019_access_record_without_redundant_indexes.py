import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The access record's application and user lose their single-column indexes: the
    indexes (application, -at) and (user, -at) lead with them and serve the same look-ups
    (the foreign keys' checks and cascades included), and each index was one more write for
    every row of every staff page: a list page writes 25 (issue 18)."""

    dependencies = [
        ("cases", "0018_review_info_requested_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
    ]
