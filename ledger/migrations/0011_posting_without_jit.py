"""The posting functions run without JIT compilation (issue 14).

PostgreSQL compiles a statement with LLVM when its estimated cost passes jit_above_cost
(100,000). The posting functions' statements read a few rows by key, but their estimates
come from the statistics of the moment: on the ledger bench's data, analyzed while the
ledger was young, the previous keys' lookup in ledger_post_batch() was estimated at
388,000 (4,371 legs a transfer). It was then compiled at every call, and compiling took
9.5 of the 9.6 ms it ran, on a lookup whose index scan took 0.13 ms (auto_explain). A
batch of 50 took 13.9 ms (median of 200, one client) with JIT and 7.3 ms without. JIT
pays off on long scans and aggregates, never on a posting: it is off for both functions,
and for the deferred check that a transfer's legs sum to zero, which runs at the commit
under the committing session's settings otherwise: on the functions alone, as 0010 plans
the batch's lookups as index scans.
"""

from django.db import migrations

SIGNATURES = (
    "ledger_post(text, text, text, bigint, text, uuid, bigint[], bigint[])",
    "ledger_post_batch(text[], text[], text[], bigint[], text[], uuid[], integer[],"
    " bigint[], bigint[])",
    "ledger_check_transfer_balanced()",
)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_batch_plans_without_statistics")]

    operations = [
        migrations.RunSQL(
            f"ALTER FUNCTION {signature} SET jit = off", f"ALTER FUNCTION {signature} RESET jit"
        )
        for signature in SIGNATURES
    ]
