from django.db import migrations, models

from aid_alliance.migration_ops import (
    AddIndexOnline,
    AddPartialUniqueOnline,
    RemoveIndexOnline,
    drop_field_index,
)

SEALED = models.Q(("chain_seq__isnull", False))
UNSEALED = models.Q(("chain_seq__isnull", True))


class Migration(migrations.Migration):
    """The access record's look-up indexes hold sealed records only (issue 18).

    A page view's records are written unsealed, and each index was one more write for each
    of them: a list page's 25 records cost PostgreSQL 283 µs at 100,000 applications, over a
    seventh of the inbox, for seven indexes. Now an unsealed record goes into the table, its
    id's index and the unsealed records' index (the sealer's), and the sealer's update, which
    already wrote every index of every record again (chain_seq changes), enters it into
    the look-ups. The unsealed records' index, the sealer's, is now by time (newest first)
    rather than by id: the searches read the unsealed records through it, in their order
    (cases.audit.records_matching), and the sealer seals them oldest first.

    The new indexes are built before the old ones go, each CONCURRENTLY on PostgreSQL: the
    table goes on being written meanwhile (aid_alliance.migration_ops). The unique
    constraint on chain_seq becomes a unique index of the sealed records: NULLs were never
    constrained, so it holds what it held. Its drop takes the table's strongest lock for a
    moment, but waits for it behind any reader (a backup's dump): migrate outside one.
    Backwards, the unique constraint is built again under that lock."""

    atomic = False

    dependencies = [("cases", "0022_pledged_totals")]

    operations = [
        AddIndexOnline(
            model_name="accessrecord",
            index=models.Index(
                condition=SEALED, fields=["application", "-at"], name="cases_access_sealed_app"
            ),
        ),
        AddIndexOnline(
            model_name="accessrecord",
            index=models.Index(
                condition=SEALED, fields=["user", "-at"], name="cases_access_sealed_user"
            ),
        ),
        AddIndexOnline(
            model_name="accessrecord",
            index=models.Index(
                condition=SEALED, fields=["view", "-at"], name="cases_access_sealed_view"
            ),
        ),
        AddIndexOnline(
            model_name="accessrecord",
            index=models.Index(
                condition=SEALED, fields=["-at", "-id"], name="cases_access_sealed_at"
            ),
        ),
        AddIndexOnline(
            model_name="accessrecord",
            index=models.Index(
                condition=UNSEALED, fields=["-at", "-id"], name="cases_access_unsealed_at"
            ),
        ),
        AddPartialUniqueOnline(
            model_name="accessrecord",
            constraint=models.UniqueConstraint(
                condition=SEALED, fields=["chain_seq"], name="cases_access_sealed_seq"
            ),
        ),
        RemoveIndexOnline(model_name="accessrecord", name="cases_access_unsealed"),
        RemoveIndexOnline(model_name="accessrecord", name="cases_access_app_at"),
        RemoveIndexOnline(model_name="accessrecord", name="cases_access_user_at"),
        RemoveIndexOnline(model_name="accessrecord", name="cases_access_view_at"),
        migrations.SeparateDatabaseAndState(
            database_operations=[drop_field_index("cases", "accessrecord", "at")],
            state_operations=[
                migrations.AlterField(
                    model_name="accessrecord",
                    name="at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="accessrecord",
            name="chain_seq",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
