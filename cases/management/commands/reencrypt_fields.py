"""Re-encrypt the ID and bank numbers under the current key, and refresh their search hashes.

    python manage.py reencrypt_fields [--batch N]

Key rotation (cases.crypto): put the new key first in FIELD_ENCRYPTION_KEY, keep the old one
after it, run this command, then drop the old key. After FIELD_HASH_KEY changed, it also
recomputes every search hash. Safe to run again: a value already under the current key is
only rehashed. Drafts' pending input (a mistyped number kept as typed) is not rewritten:
clear old drafts before dropping a key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from cases import crypto


def encrypted_columns():
    """(table, column, hash column or "") of every EncryptedCharField of the cases app."""
    for model in apps.get_app_config("cases").get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, crypto.EncryptedCharField):
                hash_column = (
                    model._meta.get_field(field.hash_field).column if field.hash_field else ""
                )
                yield model._meta.db_table, field.column, hash_column


class Command(BaseCommand):
    help = "Re-encrypt ID and bank numbers under the current key and refresh their hashes."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="Rows per transaction.")

    def handle(self, *args, batch, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        quote = connection.ops.quote_name
        current = f"{crypto.PREFIX}${crypto.current_key_id()}$"
        for table, column, hash_column in encrypted_columns():
            context, last, rewritten = f"{table}.{column}", 0, 0
            select = (
                f"SELECT id, {quote(column)}"  # noqa: S608 - names from the models
                + (f", {quote(hash_column)}" if hash_column else ", ''")
                + f" FROM {quote(table)} WHERE id > %s AND {quote(column)} <> '' "
                "ORDER BY id LIMIT %s"
                # The rows stay locked until their batch is rewritten: a number edited
                # meanwhile is not put back to the value read.
                 + (" FOR UPDATE" if connection.features.has_select_for_update else "")
            )
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(select, [last, batch])
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    last = rows[-1][0]
                    updates = []
                    for pk, stored, digest in rows:
                        plain = crypto.decrypt(stored, context=context)
                        fresh_hash = crypto.keyed_hash(plain) if hash_column else ""
                        if stored.startswith(current) and fresh_hash == digest:
                            continue
                        value = (
                            stored
                            if stored.startswith(current)
                            else crypto.encrypt(plain, context=context)
                        )
                        updates.append((value, fresh_hash, pk) if hash_column else (value, pk))
                    if updates:
                        sets = f"{quote(column)} = %s" + (
                            f", {quote(hash_column)} = %s" if hash_column else ""
                        )
                        cursor.executemany(
                            f"UPDATE {quote(table)} SET {sets} WHERE id = %s",  # noqa: S608
                            updates,
                        )
                    rewritten += len(updates)
            self.stdout.write(f"{context}: {rewritten} rewritten")
