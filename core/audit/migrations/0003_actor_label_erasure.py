"""A closed account's name may leave the audit events it acted in (docs/privacy.md).

Events stay append-only, with one narrow exception: an UPDATE that changes nothing but
`actor_label`, while the transaction-local flag `hexitime.erasing_actor` is on (raised by
`kernel.db.actor_label_erasure()`). What was done, to what, when and why can still never
change, and nothing can be deleted.

One statement per element: Citus forwards DDL to the workers as the raw string.
"""

from django.db import migrations

ERASABLE_LABEL = [
    r"""
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('hexitime.erasing_actor', true) = 'on'
       AND (to_jsonb(NEW) - 'actor_label') = (to_jsonb(OLD) - 'actor_label') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    "DROP TRIGGER audit_event_append_only ON audit_auditevent",
    r"""
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()
""",
]

BACK = [
    "DROP TRIGGER audit_event_append_only ON audit_auditevent",
    r"""
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
""",
    "DROP FUNCTION audit_event_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [migrations.RunSQL(ERASABLE_LABEL, BACK)]
