"""Django's PostgreSQL backend whose schema editor sends one SQL statement per execute.

Django's PostgreSQL schema editor joins statements in a few of its templates (dropping a
foreign key is `SET CONSTRAINTS ... IMMEDIATE; ALTER TABLE ... DROP CONSTRAINT ...`;
adding a column with a default or a foreign key appends `; SET CONSTRAINTS ...`). Citus
forwards DDL to its workers as the raw string and refuses a string of several statements,
so this editor splits them and sends each on its own. django-tenants wraps this backend
(`ORIGINAL_BACKEND` in the settings); the network schema template records what it sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlparse
from django.db.backends.postgresql import base, schema

if TYPE_CHECKING:
    from django.db.backends.ddl_references import Statement


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def execute(self, sql: Statement | str, params: Sequence[Any] | None = ()) -> None:
        text = str(sql)
        if ";" not in text.rstrip().rstrip(";"):
            super().execute(sql, params)
            return
        if params is not None:
            # Merged client-side first, as Django's editor does, so each part stands alone.
            text = self.connection.ops.compose_sql(text, params)
        for statement in sqlparse.split(text):
            if sqlparse.format(statement, strip_comments=True).strip():
                super().execute(statement.rstrip().rstrip(";"), None)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
