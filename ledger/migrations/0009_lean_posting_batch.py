"""A leaner posting path, and many transfers in one call (issue 14).

Posting did about 12 statements' work per transfer; the same guarantees now cost fewer:

- ledger_post() locks the accounts and reads their floors in one statement (a count and
  the first account short of its floor, over the rows locked in id order), returns the
  row its INSERT returned instead of selecting it again, and writes every leg with one
  UPDATE ... INSERT as before. The floor check still refuses with HX003 before anything
  is written, unless the key was posted already; the SET LOCAL flag stays (Citus).
- The guard triggers fire once per statement, not once per row: an INSERT into entries
  outside ledger_post() is still refused whatever it inserts, and an UPDATE naming an
  account's id, balance or last_sequence is refused outside it (stricter than before:
  naming them is enough, changing them is not needed).
- Entries no longer carry foreign-key constraints (four index probes per transfer): the
  posting functions insert the transfer and lock the accounts in the very call that
  writes the legs, transfers cannot be deleted or updated (0002/0007), and an account
  with entries can no longer be deleted either (the constraint used to refuse that);
  `hexitime ledger audit` reports any entry whose transfer or account is missing.
- The deferred check that a transfer's legs sum to zero stays: it is what refuses a hand
  that raises the posting flag itself.

ledger_post_batch() posts many independent transfers in one round trip, each with its own
outcome ('posted', 'existing': posted before under its key, or 'refused' with its HX code,
message and detail), without savepoints: it locks every account of the batch in id order
(the one order), decides each transfer in order on the balances the earlier ones leave,
then writes all accepted transfers with one INSERT and all their legs with one UPDATE ...
INSERT. A refused transfer writes nothing and does not stop the others. A key posted by a
concurrent transaction between the check and the insert is a serialization failure
(40001): the caller's retry then finds it posted.

One statement per element: Citus forwards DDL to the workers as the raw string.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_0002 = importlib.import_module("ledger.migrations.0002_guarantees")
_0004 = importlib.import_module("ledger.migrations.0004_entry_sequence")

LEAN = [
    # One check per statement: entries are written only inside the posting functions.
    r"""
CREATE OR REPLACE FUNCTION ledger_guard_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hexitime.ledger_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'ledger entries change only through ledger_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$
""",
    "DROP TRIGGER ledger_entry_insert_guard ON ledger_entry",
    r"""
CREATE TRIGGER ledger_entry_insert_guard BEFORE INSERT ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_guard_entry()
""",
    # An account's id, balance and last sequence are named only by the posting functions.
    r"""
CREATE FUNCTION ledger_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hexitime.ledger_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'ledger balances change only through ledger_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$
""",
    "DROP TRIGGER ledger_account_balance_guard ON ledger_account",
    "DROP FUNCTION ledger_guard_balance()",
    r"""
CREATE TRIGGER ledger_account_balance_guard
    BEFORE UPDATE OF id, balance, last_sequence ON ledger_account
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_guard_account()
""",
    # What the entries' foreign key to accounts refused: deleting an account with history.
    r"""
CREATE FUNCTION ledger_refuse_account_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger account % has entries and cannot be deleted', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    r"""
CREATE TRIGGER ledger_account_keep_history BEFORE DELETE ON ledger_account
    FOR EACH ROW WHEN (OLD.last_sequence > 0)
    EXECUTE FUNCTION ledger_refuse_account_delete()
""",
    # Post a transfer in one round trip; the signature, result and errors as in 0002/0004.
    r"""
CREATE OR REPLACE FUNCTION ledger_post(
    p_key text, p_kind text, p_memo text, p_actor_id bigint, p_actor_label text,
    p_reverses uuid, p_accounts bigint[], p_amounts bigint[]
) RETURNS SETOF ledger_transfer LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    v_row ledger_transfer;
    v_legs integer := coalesce(array_length(p_accounts, 1), 0);
    v_total bigint := 0;
    v_locked integer;
    v_short bigint;
    v_balance bigint;
    v_floor bigint;
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

    -- Lock every account of the transfer in id order (the one order used everywhere), and
    -- find the first one the transfer would take below its floor, in one statement.
    SELECT count(*), min(locked.id) FILTER (
               WHERE locked.floor IS NOT NULL AND locked.balance + locked.change < locked.floor)
      INTO v_locked, v_short
      FROM (SELECT a.id, a.balance, a.floor, l.m AS change
              FROM ledger_account a JOIN unnest(p_accounts, p_amounts) AS l(acc, m)
                ON a.id = l.acc
             ORDER BY a.id FOR UPDATE OF a) locked;
    IF v_locked <> v_legs THEN
        RAISE EXCEPTION 'unknown ledger account in %', p_accounts USING ERRCODE = 'HX004';
    END IF;
    -- Short of credit is a refusal, unless this key was posted already.
    IF v_short IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ledger_transfer t WHERE t.idempotency_key = p_key) THEN
        SELECT a.balance, a.floor INTO v_balance, v_floor FROM ledger_account a
         WHERE a.id = v_short;
        RAISE EXCEPTION 'ledger account % would fall below its floor', v_short
            USING ERRCODE = 'HX003',
                  DETAIL = format('%s,%s,%s,%s', v_short, v_balance, v_floor,
                                  p_amounts[array_position(p_accounts, v_short)]);
    END IF;

    INSERT INTO ledger_transfer (id, idempotency_key, kind, memo, actor_id, actor_label,
                                 created_at, reverses_id)
    VALUES (gen_random_uuid(), p_key, p_kind, p_memo, p_actor_id, p_actor_label, now(),
            p_reverses)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING * INTO v_row;

    IF v_row.id IS NULL THEN
        -- Posted before (perhaps by a concurrent call that has now committed).
        SELECT * INTO v_row FROM ledger_transfer t WHERE t.idempotency_key = p_key;
        IF (SELECT array_agg(e.account_id::text || ':' || e.amount::text ORDER BY e.account_id)
              FROM ledger_entry e WHERE e.transfer_id = v_row.id)
           IS DISTINCT FROM
           (SELECT array_agg(l.a::text || ':' || l.m::text ORDER BY l.a)
              FROM unnest(p_accounts, p_amounts) AS l(a, m))
        THEN
            RAISE EXCEPTION 'idempotency key % was used for a different transfer', p_key
                USING ERRCODE = 'HX002';
        END IF;
        RETURN NEXT v_row;
        RETURN;
    END IF;

    -- SET LOCAL, not set_config(): Citus forwards it to the worker holding this schema,
    -- where the guard triggers read it.
    SET LOCAL hexitime.ledger_posting = on;
    WITH moved AS (
        UPDATE ledger_account a
           SET balance = a.balance + l.m, last_sequence = a.last_sequence + 1
          FROM unnest(p_accounts, p_amounts) AS l(acc, m)
         WHERE a.id = l.acc
        RETURNING a.id, l.m, a.balance, a.last_sequence
    )
    INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, sequence)
    SELECT v_row.id, moved.id, moved.m, moved.balance, moved.last_sequence FROM moved;
    SET LOCAL hexitime.ledger_posting = off;

    RETURN NEXT v_row;
END $$
""",
    # Post many independent transfers in one round trip; one result row per transfer, in
    # order. The transfers are given as parallel arrays, their legs flattened in order
    # (p_leg_counts[i] legs for transfer i). Only a malformed call as a whole raises
    # (HX001); each transfer's refusal is its row's code, message and detail, as
    # ledger_post() would have raised them.
    r"""
CREATE FUNCTION ledger_post_batch(
    p_keys text[], p_kinds text[], p_memos text[], p_actor_ids bigint[],
    p_actor_labels text[], p_reverses uuid[], p_leg_counts integer[],
    p_accounts bigint[], p_amounts bigint[]
) RETURNS TABLE (o_item integer, o_outcome text, o_code text, o_message text,
                 o_detail text, o_transfer ledger_transfer)
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_n integer := coalesce(array_length(p_keys, 1), 0);
    v_ids bigint[];      -- the batch's accounts, locked, in id order
    v_bal bigint[];      -- their balances as the transfers decided so far leave them
    v_floor bigint[];
    v_prev_keys text[];  -- keys posted before this call, and their legs
    v_prev_legs text[];
    v_outcome text[] := array_fill(NULL::text, ARRAY[v_n]);
    v_code text[] := array_fill(NULL::text, ARRAY[v_n]);
    v_message text[] := array_fill(NULL::text, ARRAY[v_n]);
    v_detail text[] := array_fill(NULL::text, ARRAY[v_n]);
    v_new_keys text[] := '{}';     -- the transfers to write, and their legs
    v_new_legs text[] := '{}';
    v_new_items integer[] := '{}';
    v_w_keys text[] := '{}';
    v_w_accounts bigint[] := '{}';
    v_w_amounts bigint[] := '{}';
    v_t_keys text[];
    v_t_ids uuid[];
    v_written integer;
    v_first integer := 1;
    v_accounts bigint[];
    v_amounts bigint[];
    v_legs integer;
    v_total bigint;
    v_pos integer;
    v_sig text;
    v_ok boolean;
BEGIN
    IF v_n = 0 OR array_length(p_kinds, 1) IS DISTINCT FROM v_n
       OR array_length(p_memos, 1) IS DISTINCT FROM v_n
       OR array_length(p_actor_ids, 1) IS DISTINCT FROM v_n
       OR array_length(p_actor_labels, 1) IS DISTINCT FROM v_n
       OR array_length(p_reverses, 1) IS DISTINCT FROM v_n
       OR array_length(p_leg_counts, 1) IS DISTINCT FROM v_n
       OR array_length(p_accounts, 1) IS DISTINCT FROM array_length(p_amounts, 1)
       OR (SELECT sum(c) FROM unnest(p_leg_counts) AS c) IS DISTINCT FROM
          array_length(p_accounts, 1)::bigint
       OR EXISTS (SELECT 1 FROM unnest(p_leg_counts) AS c WHERE c IS NULL OR c < 0) THEN
        RAISE EXCEPTION 'a batch needs one key, kind, memo, actor, reversal and leg count per transfer, and its legs'
            USING ERRCODE = 'HX001';
    END IF;

    -- Every account of the batch, locked once in id order (the one order used everywhere).
    SELECT array_agg(locked.id ORDER BY locked.id), array_agg(locked.balance ORDER BY locked.id),
           array_agg(locked.floor ORDER BY locked.id)
      INTO v_ids, v_bal, v_floor
      FROM (SELECT a.id, a.balance, a.floor FROM ledger_account a
             WHERE a.id = ANY (p_accounts) ORDER BY a.id FOR UPDATE) locked;
    v_ids := coalesce(v_ids, '{}');

    SELECT array_agg(t.idempotency_key),
           array_agg((SELECT array_agg(e.account_id::text || ':' || e.amount::text
                                       ORDER BY e.account_id)
                        FROM ledger_entry e WHERE e.transfer_id = t.id)::text)
      INTO v_prev_keys, v_prev_legs
      FROM ledger_transfer t WHERE t.idempotency_key = ANY (p_keys);
    v_prev_keys := coalesce(v_prev_keys, '{}');

    FOR v_i IN 1 .. v_n LOOP
        v_legs := p_leg_counts[v_i];
        v_accounts := p_accounts[v_first : v_first + v_legs - 1];
        v_amounts := p_amounts[v_first : v_first + v_legs - 1];
        v_first := v_first + v_legs;
        v_total := 0;
        FOR j IN 1 .. v_legs LOOP
            v_total := v_total + coalesce(v_amounts[j], 0);
            IF coalesce(v_amounts[j], 0) = 0 OR v_accounts[j] IS NULL
               OR v_accounts[j] = ANY (v_accounts[1 : j - 1]) THEN
                v_total := NULL;
            END IF;
        END LOOP;
        IF v_legs < 2 OR v_total IS DISTINCT FROM 0 OR p_keys[v_i] IS NULL THEN
            v_outcome[v_i] := 'refused';
            v_code[v_i] := 'HX001';
            v_message[v_i] := 'a transfer needs two or more distinct accounts and non-zero amounts summing to zero';
            CONTINUE;
        END IF;
        v_sig := NULL;
        v_pos := array_position(v_prev_keys, p_keys[v_i]);
        IF v_pos IS NULL THEN
            v_pos := array_position(v_new_keys, p_keys[v_i]);
            IF v_pos IS NOT NULL THEN
                v_sig := v_new_legs[v_pos];  -- the same key earlier in this batch
            END IF;
        ELSE
            v_sig := v_prev_legs[v_pos];
        END IF;
        IF v_pos IS NOT NULL THEN
            IF v_sig IS NOT DISTINCT FROM
               (SELECT array_agg(l.a::text || ':' || l.m::text ORDER BY l.a)
                  FROM unnest(v_accounts, v_amounts) AS l(a, m))::text THEN
                v_outcome[v_i] := 'existing';
            ELSE
                v_outcome[v_i] := 'refused';
                v_code[v_i] := 'HX002';
                v_message[v_i] := format('idempotency key %s was used for a different transfer',
                                         p_keys[v_i]);
            END IF;
            CONTINUE;
        END IF;
        v_ok := true;
        FOR j IN 1 .. v_legs LOOP
            v_pos := array_position(v_ids, v_accounts[j]);
            IF v_pos IS NULL THEN
                v_outcome[v_i] := 'refused';
                v_code[v_i] := 'HX004';
                v_message[v_i] := format('unknown ledger account in %s', v_accounts);
                v_ok := false;
                EXIT;
            END IF;
            IF v_floor[v_pos] IS NOT NULL AND v_bal[v_pos] + v_amounts[j] < v_floor[v_pos]
               AND v_ok THEN
                v_outcome[v_i] := 'refused';
                v_code[v_i] := 'HX003';
                v_message[v_i] := format('ledger account %s would fall below its floor',
                                         v_accounts[j]);
                v_detail[v_i] := format('%s,%s,%s,%s', v_accounts[j], v_bal[v_pos],
                                        v_floor[v_pos], v_amounts[j]);
                v_ok := false;
            END IF;
        END LOOP;
        CONTINUE WHEN NOT v_ok;
        FOR j IN 1 .. v_legs LOOP
            v_pos := array_position(v_ids, v_accounts[j]);
            v_bal[v_pos] := v_bal[v_pos] + v_amounts[j];
            v_w_keys := v_w_keys || p_keys[v_i];
        END LOOP;
        v_w_accounts := v_w_accounts || v_accounts;
        v_w_amounts := v_w_amounts || v_amounts;
        v_outcome[v_i] := 'posted';
        v_new_items := v_new_items || v_i;
        v_new_keys := v_new_keys || p_keys[v_i];
        v_new_legs := v_new_legs || (SELECT array_agg(l.a::text || ':' || l.m::text ORDER BY l.a)
                                       FROM unnest(v_accounts, v_amounts) AS l(a, m))::text;
    END LOOP;

    IF cardinality(v_new_items) > 0 THEN
        WITH inserted AS (
            INSERT INTO ledger_transfer (id, idempotency_key, kind, memo, actor_id,
                                         actor_label, created_at, reverses_id)
            SELECT gen_random_uuid(), p_keys[k], p_kinds[k], p_memos[k], p_actor_ids[k],
                   p_actor_labels[k], now(), p_reverses[k]
              FROM unnest(v_new_items) AS k
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key
        )
        SELECT array_agg(inserted.idempotency_key), array_agg(inserted.id), count(*)
          INTO v_t_keys, v_t_ids, v_written FROM inserted;
        IF v_written <> cardinality(v_new_items) THEN
            RAISE EXCEPTION 'a transfer of this batch was posted meanwhile by another transaction'
                USING ERRCODE = 'serialization_failure';
        END IF;

        SET LOCAL hexitime.ledger_posting = on;
        WITH legs AS MATERIALIZED (
            SELECT t.id AS transfer_id, l.acc, l.m, l.ord
              FROM unnest(v_w_keys, v_w_accounts, v_w_amounts) WITH ORDINALITY AS l(k, acc, m, ord)
              JOIN unnest(v_t_keys, v_t_ids) AS t(k, id) ON t.k = l.k
        ), per_account AS (
            SELECT legs.acc, sum(legs.m) AS total, count(*) AS legs_count
              FROM legs GROUP BY legs.acc
        ), moved AS (
            UPDATE ledger_account a
               SET balance = a.balance + p.total, last_sequence = a.last_sequence + p.legs_count
              FROM per_account p
             WHERE a.id = p.acc
            RETURNING a.id, a.balance - p.total AS balance_before,
                      a.last_sequence - p.legs_count AS sequence_before
        )
        INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, sequence)
        SELECT legs.transfer_id, legs.acc, legs.m,
               moved.balance_before + sum(legs.m) OVER running,
               moved.sequence_before + row_number() OVER running
          FROM legs JOIN moved ON moved.id = legs.acc
        WINDOW running AS (PARTITION BY legs.acc ORDER BY legs.ord);
        SET LOCAL hexitime.ledger_posting = off;
    END IF;

    RETURN QUERY
        SELECT k::integer, v_outcome[k], v_code[k], v_message[k], v_detail[k], t
          FROM generate_series(1, v_n) AS k
          LEFT JOIN ledger_transfer t
            ON t.idempotency_key = p_keys[k] AND v_outcome[k] <> 'refused'
         ORDER BY k;
END $$
""",
]

BACK = [
    "DROP FUNCTION ledger_post_batch(text[], text[], text[], bigint[], text[], uuid[], integer[], bigint[], bigint[])",
    _0004.POST,
    "DROP TRIGGER ledger_account_keep_history ON ledger_account",
    "DROP FUNCTION ledger_refuse_account_delete()",
    "DROP TRIGGER ledger_account_balance_guard ON ledger_account",
    _0004.GUARD_BALANCE.replace("CREATE OR REPLACE FUNCTION", "CREATE FUNCTION", 1),
    r"""
CREATE TRIGGER ledger_account_balance_guard BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_balance()
""",
    "DROP FUNCTION ledger_guard_account()",
    "DROP TRIGGER ledger_entry_insert_guard ON ledger_entry",
    next(s for s in _0002.GUARANTEES if "ledger_guard_entry() RETURNS" in s).replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    ),
    r"""
CREATE TRIGGER ledger_entry_insert_guard BEFORE INSERT ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_entry()
""",
]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_community_pot_and_gifts")]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.account",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="transfer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.transfer",
            ),
        ),
        migrations.RunSQL(LEAN, BACK),
    ]
