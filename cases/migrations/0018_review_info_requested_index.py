from django.db import migrations, models

from aid_alliance.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    """The staff list's "information requested" mark reads this partial index instead of a
    heap block per such review (issue 18). Built CONCURRENTLY on PostgreSQL: the reviews go
    on being written meanwhile (aid_alliance.migration_ops)."""

    atomic = False

    dependencies = [("cases", "0017_requested_papers_of_every_document_kind")]

    operations = [
        AddIndexOnline(
            model_name="memberreview",
            index=models.Index(
                condition=models.Q(("state", "info_requested")),
                fields=["application"],
                name="cases_review_info_requested",
            ),
        ),
    ]
