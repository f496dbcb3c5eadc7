"""ledger_post_batch() plans its lookups as index scans whatever the statistics say
(issue 14).

Every table it reads is read by a key: the batch's accounts by id, its transfers by
idempotency key, their legs by transfer. Planned while a table's statistics are stale
(a network's first minutes, before autovacuum's first ANALYZE, or a backend's plan
cached while the table was small), those lookups became sequential scans of the whole
table: 17-19 ms a batch of 50 over 13,000 transfers, 3.3 ms with the setting below,
the same as after ANALYZE. A sequential scan is never the right plan for them.
"""

from django.db import migrations

SIGNATURE = (
    "ledger_post_batch(text[], text[], text[], bigint[], text[], uuid[], integer[],"
    " bigint[], bigint[])"
)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_lean_posting_batch")]

    operations = [
        migrations.RunSQL(
            f"ALTER FUNCTION {SIGNATURE} SET enable_seqscan = off",
            f"ALTER FUNCTION {SIGNATURE} RESET enable_seqscan",
        ),
    ]
