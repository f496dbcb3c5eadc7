"""Entries carry their place in the account's history: `ledger_entry.sequence`.

Ids are no posting order on Citus: each node hands out its own identity range, and a
network schema moved to another node (`citus_schema_move`) gets smaller ids than before.
The statement, its keyset pages, exports and the audit order by `sequence`, which
ledger_post() takes from `ledger_account.last_sequence` under the account's row lock.

Existing entries were all posted on one PostgreSQL, where id order is posting order: they
are numbered in id order per account. The append-only trigger is switched off for exactly
that numbering, inside this migration's transaction.

ledger_post() now raises its guard flag with SET LOCAL: Citus forwards SET LOCAL (with
`citus.propagate_set_commands = local`) to the worker where the guard triggers fire, and
does not forward `set_config()`. The balance guard covers `last_sequence` too.

One statement per element: Citus forwards DDL to the workers as the raw string.
"""

import importlib

from django.db import migrations, models

_0002 = importlib.import_module("ledger.migrations.0002_guarantees")


def _previous(signature: str) -> str:
    """The 0002 text of a function, to put back when this migration is reversed."""
    (text,) = (s for s in _0002.GUARANTEES if s.lstrip().startswith(f"CREATE FUNCTION {signature}"))
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


BACKFILL = [
    "ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only",
    r"""
UPDATE ledger_entry e SET sequence = numbered.sequence
  FROM (SELECT id, row_number() OVER (PARTITION BY account_id ORDER BY id) AS sequence
          FROM ledger_entry) numbered
 WHERE e.id = numbered.id
""",
    "ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only",
    r"""
UPDATE ledger_account a SET last_sequence = counted.last
  FROM (SELECT account_id, max(sequence) AS last FROM ledger_entry GROUP BY account_id) counted
 WHERE a.id = counted.account_id
""",
]

GUARD_BALANCE = r"""
CREATE OR REPLACE FUNCTION ledger_guard_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.balance IS DISTINCT FROM OLD.balance
        OR NEW.last_sequence IS DISTINCT FROM OLD.last_sequence)
       AND current_setting('hexitime.ledger_posting', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'ledger balances change only through ledger_post()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""

# As in 0002, with the entry's sequence and the flag raised by SET LOCAL.
POST = r"""
CREATE OR REPLACE FUNCTION ledger_post(
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
    SELECT v_id, moved.id, moved.m, moved.balance, moved.last_sequence FROM moved;
    SET LOCAL hexitime.ledger_posting = off;

    RETURN QUERY SELECT * FROM ledger_transfer t WHERE t.id = v_id;
END $$
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_lean_transfer_indexes")]

    operations = [
        migrations.AddField(
            model_name="account",
            name="last_sequence",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="entry",
            name="sequence",
            field=models.BigIntegerField(
                null=True, help_text="Posting order within the account, from 1."
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="entry",
            name="sequence",
            field=models.BigIntegerField(help_text="Posting order within the account, from 1."),
        ),
        migrations.RemoveIndex(model_name="entry", name="ledger_entry_statement_idx"),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.UniqueConstraint(
                fields=("account", "sequence"), name="ledger_entry_one_per_sequence"
            ),
        ),
        migrations.RunSQL(
            [GUARD_BALANCE, POST],
            [_previous("ledger_guard_balance()"), _previous("ledger_post(")],
        ),
    ]
