from django.db import migrations

# Audit events are evidence: the database itself refuses to change or remove them.
# (TRUNCATE stays possible: it is an operator's act, and the test suite's flush uses it.)
# One statement per element: Citus forwards DDL to the workers as the raw string.
APPEND_ONLY = [
    r"""
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    r"""
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
""",
]

DROP = [
    "DROP TRIGGER audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION audit_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
