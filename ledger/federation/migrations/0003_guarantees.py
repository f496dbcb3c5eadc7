"""What the database guarantees about the federation ledger, whatever code talks to it:
the same guarantees as a network's ledger (ledger/migrations/0002_guarantees.py).

- Federation transfers are append-only: UPDATE and DELETE are refused; a correction is
  an exchange back between the two networks.
- Positions change, and federation transfers are written, only inside
  `federation_post()`, which raises a transaction-local flag (SET LOCAL, as
  `ledger_post()` does) while it moves both positions and writes the transfer in one
  statement. A membership is born at position 0.

Everything here lives in the public schema and names only public tables. The posting
function reads tables, so it is pinned to the schema it is created in (`SET search_path
FROM CURRENT`): it is called while a network's schema is also on the search path. The
guard functions read no table and are not pinned.

One statement per element: Citus forwards DDL to the workers as the raw string.
"""

from django.db import migrations

GUARANTEES = [
    r"""
CREATE FUNCTION federation_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'federation % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    r"""
CREATE TRIGGER federation_transfer_append_only
    BEFORE UPDATE OR DELETE ON federation_federationtransfer
    FOR EACH ROW EXECUTE FUNCTION federation_refuse_change()
""",
    r"""
CREATE FUNCTION federation_guard_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hexitime.federation_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'federation transfers are written only through federation_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
""",
    r"""
CREATE TRIGGER federation_transfer_insert_guard
    BEFORE INSERT ON federation_federationtransfer
    FOR EACH ROW EXECUTE FUNCTION federation_guard_transfer()
""",
    r"""
CREATE FUNCTION federation_guard_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (CASE WHEN TG_OP = 'INSERT' THEN NEW.position <> 0
             ELSE NEW.position IS DISTINCT FROM OLD.position END)
       AND current_setting('hexitime.federation_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'federation positions change only through federation_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
""",
    r"""
CREATE TRIGGER federation_membership_position_guard
    BEFORE INSERT OR UPDATE ON federation_membership
    FOR EACH ROW EXECUTE FUNCTION federation_guard_position()
""",
    # Move `p_amount` minutes from the payer's membership to the payee's and record the
    # transfer, in one statement. The caller has locked both memberships (in id order)
    # and checked admission and the debit limit; the CHECK constraints check again.
    r"""
CREATE FUNCTION federation_post(
    p_key text, p_payer bigint, p_payee bigint, p_amount bigint,
    p_payer_member_id bigint, p_payee_member_id bigint, p_memo text
) RETURNS SETOF federation_federationtransfer LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    v_moved integer;
BEGIN
    SET LOCAL hexitime.federation_posting = on;
    UPDATE federation_membership m
       SET position = m.position + CASE WHEN m.id = p_payer THEN p_amount ELSE -p_amount END
     WHERE m.id IN (p_payer, p_payee) AND p_payer <> p_payee;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    IF v_moved <> 2 THEN
        RAISE EXCEPTION 'a federation transfer is between two existing memberships'
            USING ERRCODE = 'HX001';
    END IF;
    RETURN QUERY
    INSERT INTO federation_federationtransfer
        (id, idempotency_key, payer_id, payee_id, amount, payer_member_id,
         payee_member_id, memo, created_at)
    VALUES (gen_random_uuid(), p_key, p_payer, p_payee, p_amount, p_payer_member_id,
            p_payee_member_id, p_memo, now())
    RETURNING *;
    SET LOCAL hexitime.federation_posting = off;
END $$
""",
]

UNDO = [
    "DROP FUNCTION federation_post(text, bigint, bigint, bigint, bigint, bigint, text)",
    "DROP TRIGGER federation_membership_position_guard ON federation_membership",
    "DROP FUNCTION federation_guard_position()",
    "DROP TRIGGER federation_transfer_insert_guard ON federation_federationtransfer",
    "DROP FUNCTION federation_guard_transfer()",
    "DROP TRIGGER federation_transfer_append_only ON federation_federationtransfer",
    "DROP FUNCTION federation_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("federation", "0002_remoteexchange")]

    operations = [migrations.RunSQL(GUARANTEES, UNDO)]
