"""What the database guarantees, whatever code talks to it (see the package docstring).

Functions that read tables are pinned to the schema they are created in
(`SET search_path FROM CURRENT`): the deferred check fires at commit under whatever
search_path is current then, and a federated transfer calls one network's `ledger_post()`
while another network is current. Guard functions that read no table are not pinned:
pinning costs a configuration switch on every call.

One statement per element: Citus forwards DDL to the workers as the raw string, and a
string of several statements is refused there.
"""

from django.db import migrations

GUARANTEES = [
    # Transfers and entries are append-only: corrections are new reversing transfers.
    r"""
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    r"""
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
""",
    r"""
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
""",
    # Balances change, and entries are written, only inside ledger_post(), which raises a
    # transaction-local flag while it works. (A deliberate hand can raise it too; the audit
    # then still catches any mismatch.)
    r"""
CREATE FUNCTION ledger_guard_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance IS DISTINCT FROM OLD.balance
       AND current_setting('hexitime.ledger_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'ledger balances change only through ledger_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
""",
    r"""
CREATE TRIGGER ledger_account_balance_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_balance()
""",
    r"""
CREATE FUNCTION ledger_guard_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hexitime.ledger_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'ledger entries change only through ledger_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
""",
    r"""
CREATE TRIGGER ledger_entry_insert_guard BEFORE INSERT ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_entry()
""",
    # A transfer's entries sum to zero and there are at least two: checked at commit, once
    # every leg has been written.
    r"""
CREATE FUNCTION ledger_check_transfer_balanced() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    legs integer;
    total bigint;
BEGIN
    SELECT count(*), coalesce(sum(amount), 0) INTO legs, total
        FROM ledger_entry WHERE transfer_id = NEW.id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger transfer % is unbalanced: % legs summing to % minutes',
            NEW.id, legs, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
    r"""
CREATE CONSTRAINT TRIGGER ledger_transfer_balanced
    AFTER INSERT ON ledger_transfer DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_transfer_balanced()
""",
    # Post a transfer in one round trip. Returns the transfer row: the new one, or the one
    # posted before with the same key and the same legs.
    # Errors: HX001 malformed legs, HX002 key reused with other legs, HX003 an account would
    # go below its floor (DETAIL: account id, balance, floor, change), HX004 unknown account.
    r"""
CREATE FUNCTION ledger_post(
    p_key text, p_kind text, p_memo text, p_actor_id bigint, p_actor_label text,
    p_reverses uuid, p_accounts bigint[], p_amounts bigint[]
) RETURNS SETOF ledger_transfer LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    v_id uuid;
    v_legs integer := coalesce(array_length(p_accounts, 1), 0);
    v_total bigint := 0;
    v_account record;
    v_change bigint;
    v_locked integer := 0;
BEGIN
    FOR i IN 1 .. v_legs LOOP
        v_total := v_total + coalesce(p_amounts[i], 0);
        IF coalesce(p_amounts[i], 0) = 0 OR p_accounts[i] = ANY (p_accounts[1 : i - 1]) THEN
            v_total := NULL;
        END IF;
    END LOOP;
    IF v_legs < 2 OR v_legs <> coalesce(array_length(p_amounts, 1), 0)
       OR v_total IS DISTINCT FROM 0 THEN
        RAISE EXCEPTION 'a transfer needs two or more distinct accounts and non-zero amounts summing to zero'
            USING ERRCODE = 'HX001';
    END IF;

    -- Lock every account of the transfer in id order (the one order used everywhere) and
    -- check floors on the locked balances.
    FOR v_account IN
        SELECT id, balance, floor FROM ledger_account
         WHERE id = ANY (p_accounts) ORDER BY id FOR UPDATE
    LOOP
        v_locked := v_locked + 1;
        v_change := p_amounts[array_position(p_accounts, v_account.id)];
        IF v_account.floor IS NOT NULL AND v_account.balance + v_change < v_account.floor THEN
            -- Unless this key was posted already, this is a refusal.
            IF NOT EXISTS (SELECT 1 FROM ledger_transfer t WHERE t.idempotency_key = p_key) THEN
                RAISE EXCEPTION 'ledger account % would fall below its floor', v_account.id
                    USING ERRCODE = 'HX003',
                          DETAIL = format('%s,%s,%s,%s', v_account.id, v_account.balance,
                                          v_account.floor, v_change);
            END IF;
        END IF;
    END LOOP;
    IF v_locked <> v_legs THEN
        RAISE EXCEPTION 'unknown ledger account in %', p_accounts USING ERRCODE = 'HX004';
    END IF;

    INSERT INTO ledger_transfer (id, idempotency_key, kind, memo, actor_id, actor_label,
                                 created_at, reverses_id)
    VALUES (gen_random_uuid(), p_key, p_kind, p_memo, p_actor_id, p_actor_label, now(),
            p_reverses)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO v_id;

    IF v_id IS NULL THEN
        -- Posted before (perhaps by a concurrent call that has now committed).
        SELECT t.id INTO v_id FROM ledger_transfer t WHERE t.idempotency_key = p_key;
        IF (SELECT array_agg(e.account_id::text || ':' || e.amount::text ORDER BY e.account_id)
              FROM ledger_entry e WHERE e.transfer_id = v_id)
           IS DISTINCT FROM
           (SELECT array_agg(l.a::text || ':' || l.m::text ORDER BY l.a)
              FROM unnest(p_accounts, p_amounts) AS l(a, m))
        THEN
            RAISE EXCEPTION 'idempotency key % was used for a different transfer', p_key
                USING ERRCODE = 'HX002';
        END IF;
        RETURN QUERY SELECT * FROM ledger_transfer t WHERE t.id = v_id;
        RETURN;
    END IF;

    PERFORM set_config('hexitime.ledger_posting', 'on', true);
    WITH moved AS (
        UPDATE ledger_account a SET balance = a.balance + l.m
          FROM unnest(p_accounts, p_amounts) AS l(acc, m)
         WHERE a.id = l.acc
        RETURNING a.id, l.m, a.balance
    )
    INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after)
    SELECT v_id, moved.id, moved.m, moved.balance FROM moved;
    PERFORM set_config('hexitime.ledger_posting', 'off', true);

    RETURN QUERY SELECT * FROM ledger_transfer t WHERE t.id = v_id;
END $$
""",
    # Every network is born with its issuance account (no floor: it goes as negative as
    # everything issued) and its federation clearing account.
    r"""
INSERT INTO ledger_account (kind, owner_id, balance, floor) VALUES
    ('issuance', NULL, 0, NULL),
    ('clearing', NULL, 0, NULL)
""",
]

UNDO = [
    "DELETE FROM ledger_account WHERE kind IN ('issuance', 'clearing') AND balance = 0",
    "DROP FUNCTION ledger_post(text, text, text, bigint, text, uuid, bigint[], bigint[])",
    "DROP TRIGGER ledger_transfer_balanced ON ledger_transfer",
    "DROP FUNCTION ledger_check_transfer_balanced()",
    "DROP TRIGGER ledger_entry_insert_guard ON ledger_entry",
    "DROP FUNCTION ledger_guard_entry()",
    "DROP TRIGGER ledger_account_balance_guard ON ledger_account",
    "DROP FUNCTION ledger_guard_balance()",
    "DROP TRIGGER ledger_entry_append_only ON ledger_entry",
    "DROP TRIGGER ledger_transfer_append_only ON ledger_transfer",
    "DROP FUNCTION ledger_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(GUARANTEES, UNDO)]
