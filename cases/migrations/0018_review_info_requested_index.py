from django.db import migrations, models


class Migration(migrations.Migration):
    """The staff list's "information requested" mark reads this partial index instead of a
    heap block per such review (issue 18)."""

    dependencies = [("cases", "0017_requested_papers_of_every_document_kind")]

    operations = [
        migrations.AddIndex(
            model_name="memberreview",
            index=models.Index(
                condition=models.Q(("state", "info_requested")),
                fields=["application"],
                name="cases_review_info_requested",
            ),
        ),
    ]
