# The family status page's failures move into the one rate-limit table
# (organizations.ratelimit, scope "family_status"), hashes unchanged (same salts).

from django.db import migrations


def move_status_failures(apps, schema_editor):
    StatusLookupFailure = apps.get_model("cases", "StatusLookupFailure")
    RateLimitHit = apps.get_model("organizations", "RateLimitHit")
    RateLimitHit.objects.bulk_create(
        RateLimitHit(
            scope="family_status",
            first_key=row.client_key,
            second_key=row.reference_key,
            at=row.at,
        )
        for row in StatusLookupFailure.objects.iterator()
    )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0012_child_identity"),
        ("organizations", "0006_rate_limit_hit"),
    ]

    operations = [
        migrations.RunPython(move_status_failures, migrations.RunPython.noop),
        migrations.DeleteModel(name="StatusLookupFailure"),
    ]
