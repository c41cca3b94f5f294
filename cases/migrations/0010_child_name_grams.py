"""An index for the staff list's search by part of a child's name, on PostgreSQL.

Chinese names are two to four characters and staff type one or two of them; pg_trgm cannot
serve a two-character LIKE '%..%' (no whole trigram), so the names are indexed by their
single characters and pairs (pg_bigm's idea, in SQL): aid_name_grams(name) is the array
of both, in a GIN index, and cases.selectors asks for the pairs of the search (the single
character when one is typed) before checking LIKE on the few rows found.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION aid_name_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT substr(value, i, 1) AS gram FROM generate_series(1, char_length(value)) AS i
        UNION
        SELECT substr(value, i, 2) FROM generate_series(1, char_length(value) - 1) AS i
    ) AS grams
$$
"""
INDEX = "CREATE INDEX cases_child_name_grams ON cases_child USING gin (aid_name_grams(name))"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS cases_child_name_grams")
        schema_editor.execute("DROP FUNCTION IF EXISTS aid_name_grams(text)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_encrypted_numbers")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
