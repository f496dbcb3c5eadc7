"""A closed account's name may leave the transfers it acted on (docs/privacy.md).

Transfers stay append-only, with one narrow exception: an UPDATE that changes nothing but
`actor_label`, while the transaction-local flag `hexitime.erasing_actor` is on (raised by
`kernel.db.actor_label_erasure()`, with SET LOCAL as Citus needs). Entries, amounts,
kinds, keys and memos can still never change, and nothing can be deleted.

One statement per element: Citus forwards DDL to the workers as the raw string.
"""

from django.db import migrations

ERASABLE_LABEL = [
    r"""
CREATE FUNCTION ledger_transfer_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('hexitime.erasing_actor', true) = 'on'
       AND (to_jsonb(NEW) - 'actor_label') = (to_jsonb(OLD) - 'actor_label') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    "DROP TRIGGER ledger_transfer_append_only ON ledger_transfer",
    r"""
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_refuse_change()
""",
]

BACK = [
    "DROP TRIGGER ledger_transfer_append_only ON ledger_transfer",
    r"""
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
""",
    "DROP FUNCTION ledger_transfer_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_transfer_kind_closure")]

    operations = [migrations.RunSQL(ERASABLE_LABEL, BACK)]
