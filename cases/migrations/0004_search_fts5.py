"""The SQLite full-text index of cases; PostgreSQL uses CaseSearchVector."""

from django.db import migrations

CREATE = """
CREATE VIRTUAL TABLE cases_search_fts USING fts5(
    subject, body, tokenize = 'unicode61 remove_diacritics 2'
)
"""
DROP = "DROP TABLE IF EXISTS cases_search_fts"


def create_fts_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)


def drop_fts_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_workspace")]

    operations = [migrations.RunPython(create_fts_table, drop_fts_table)]
