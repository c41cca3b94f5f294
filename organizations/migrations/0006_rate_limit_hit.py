# One table for every rate limit (organizations.ratelimit). The login lockout's rows move
# into it unchanged: their keyed hashes use the same salts, so failures counted before the
# deployment still count after it.

from django.db import migrations, models


def move_login_failures(apps, schema_editor):
    LoginFailure = apps.get_model("organizations", "LoginFailure")
    RateLimitHit = apps.get_model("organizations", "RateLimitHit")
    RateLimitHit.objects.bulk_create(
        RateLimitHit(
            scope="login", first_key=row.username_key, second_key=row.address_key, at=row.at
        )
        for row in LoginFailure.objects.iterator()
    )


class Migration(migrations.Migration):

    dependencies = [
        ("organizations", "0005_account_event_changes"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimitHit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scope", models.CharField(max_length=30)),
                ("first_key", models.CharField(max_length=64)),
                ("second_key", models.CharField(blank=True, max_length=64)),
                ("at", models.DateTimeField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["scope", "first_key", "at"], name="org_ratelimit_first_at"),
                    models.Index(fields=["scope", "second_key", "at"], name="org_ratelimit_second_at"),
                    models.Index(fields=["scope", "at"], name="org_ratelimit_scope_at"),
                ],
            },
        ),
        migrations.RunPython(move_login_failures, migrations.RunPython.noop),
        migrations.DeleteModel(name="LoginFailure"),
    ]
