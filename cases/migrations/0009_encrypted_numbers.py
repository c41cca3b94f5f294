"""ID and bank account numbers encrypted at rest, with keyed hashes for exact search.

The columns become text (ciphertext is longer than the number); then every stored number
is encrypted and its hash filled, in batches, by plain SQL (the model fields would try to
decrypt the plain values). Reversible: going back decrypts them into the old columns.
"""

from django.db import migrations, models

import cases.crypto
from cases import crypto

BATCH = 5000
# table, number column, hash column ("" for none)
COLUMNS = [
    ("cases_child", "id_number", "id_number_hash"),
    ("cases_guardian", "id_number", "id_number_hash"),
    ("cases_application", "account_number", "account_number_hash"),
    ("cases_payment", "account_number", ""),
]


def _rewrite(schema_editor, change, *, encrypted: bool):
    """Rewrite each non-empty number with change(table, column, value) -> (value, hash)."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    marker = crypto.PREFIX + "$%"
    for table, column, hash_column in COLUMNS:
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {quote(column)} FROM {quote(table)} "  # noqa: S608 - names above
                    f"WHERE id > %s AND {quote(column)} <> '' "
                    f"AND {quote(column)} {'' if encrypted else 'NOT '}LIKE %s "
                    "ORDER BY id LIMIT %s",
                    [last, marker, BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                updates = [(*change(f"{table}.{column}", value), pk) for pk, value in rows]
                sets = f"{quote(column)} = %s" + (
                    f", {quote(hash_column)} = %s" if hash_column else ""
                )
                if not hash_column:
                    updates = [(value, pk) for value, _hash, pk in updates]
                # psycopg 3 sends a batch in one pipeline: a million rows in minutes.
                cursor.executemany(
                    f"UPDATE {quote(table)} SET {sets} WHERE id = %s",  # noqa: S608
                    updates,
                )


def encrypt_numbers(apps, schema_editor):
    _rewrite(
        schema_editor,
        lambda context, value: (
            crypto.encrypt(value, context=context),
            crypto.keyed_hash(value),
        ),
        encrypted=False,
    )


def decrypt_numbers(apps, schema_editor):
    _rewrite(
        schema_editor,
        lambda context, value: (crypto.decrypt(value, context=context), ""),
        encrypted=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_consent_withdrawal_and_anonymisation"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="child",
            name="cases_child_id_number",
        ),
        migrations.AddField(
            model_name="application",
            name="account_number_hash",
            field=cases.crypto.KeyedHashField(source="account_number"),
        ),
        migrations.AddField(
            model_name="child",
            name="id_number_hash",
            field=cases.crypto.KeyedHashField(source="id_number"),
        ),
        migrations.AddField(
            model_name="guardian",
            name="id_number_hash",
            field=cases.crypto.KeyedHashField(source="id_number"),
        ),
        migrations.AlterField(
            model_name="application",
            name="account_number",
            field=cases.crypto.EncryptedCharField(
                blank=True,
                hash_field="account_number_hash",
                max_length=40,
                verbose_name="account number",
            ),
        ),
        migrations.AlterField(
            model_name="child",
            name="id_number",
            field=cases.crypto.EncryptedCharField(
                blank=True, hash_field="id_number_hash", max_length=30, verbose_name="ID number"
            ),
        ),
        migrations.AlterField(
            model_name="guardian",
            name="id_number",
            field=cases.crypto.EncryptedCharField(
                blank=True, hash_field="id_number_hash", max_length=30, verbose_name="ID number"
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="account_number",
            field=cases.crypto.EncryptedCharField(
                blank=True, max_length=40, verbose_name="account number"
            ),
        ),
        migrations.RunPython(encrypt_numbers, decrypt_numbers, elidable=False),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["account_number_hash"], name="cases_app_account_hash"),
        ),
        migrations.AddIndex(
            model_name="child",
            index=models.Index(fields=["id_number_hash"], name="cases_child_id_hash"),
        ),
        migrations.AddIndex(
            model_name="guardian",
            index=models.Index(fields=["id_number_hash"], name="cases_guardian_id_hash"),
        ),
    ]
