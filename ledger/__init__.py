"""The time-credit ledger: double entry, integer minutes, guarded by the database.

Accounts
    Every network schema has one account per member, one per QI project, one issuance
    account (the source of registration gifts and project budgets; its balance is minus
    everything ever issued) and one federation clearing account. The issuance and
    clearing accounts are created by migration, so every network is born with them.

Transfers and entries
    A `Transfer` moves minutes between two or more accounts through `Entry` rows whose
    amounts sum to zero (1 credit = 60 minutes). Entries and transfers are append-only:
    triggers refuse UPDATE and DELETE, and a correction is a new reversing transfer. (One
    exception: a closed account's name leaves a transfer's `actor_label`, that column
    alone, under a transaction-local flag; migration 0006.)
    Each entry also records the account's balance after it, so statements page without
    summing history, and its `sequence`: its place in the account's history (1, 2, 3...),
    the one posting order. Ids are no order (on Citus each node has its own identity
    range, and a moved network gets smaller ids).

Invariants, and who keeps them
    - entries of a transfer sum to zero: a deferred constraint trigger, checked at commit;
    - amount <> 0, balance >= floor (where the account has one): CHECK constraints;
    - entries of an account are numbered 1..n by `sequence` (UNIQUE per account), n being
      the account's `last_sequence`; running balances follow in that order;
    - cached balance = sum of entries: balances change only inside `ledger_post()` (and
      `ledger_post_batch()`), which writes the entries in the same statement; statement-level
      triggers refuse any other statement naming a balance and any entry written outside it;
    - every entry's transfer and account exist: the posting functions write the transfer and
      lock the accounts in the same call (entries carry no foreign keys, which cost four
      index probes a transfer); transfers cannot be deleted, nor accounts with entries;
    - the sum of all balances in a network is 0: follows from the first three;
    - across the federation: each network's clearing balance equals its federation
      position and positions sum to zero (ledger.federation).
    `hexitime ledger audit` re-checks all of them from the rows themselves.

Posting, locking and speed
    `ledger_post()` (PL/pgSQL, one statement) locks the transfer's accounts in id order
    — the same order everywhere, so concurrent transfers never deadlock each other —
    and checks their floors in one statement, inserts the transfer, then updates balances
    and last sequence numbers and inserts the entries in one more. It always runs inside a
    transaction (the service opens one when the caller has none): its guard flag is a
    SET LOCAL, which Citus forwards to the worker holding the network's schema only
    inside one. Deadlocks with other work and
    serialization failures are retried by the service: every public service that posts
    runs under `kernel.db.durable_service`, which retries the whole of its transaction
    (the idempotency keys make that safe) and turns a lock timeout into a plain refusal;
    `transfer_create` called on its own retries its own one-statement transaction.

Many transfers at once
    `transfers_create(transfers=[TransferRequest(...), ...])` posts many independent
    transfers in one round trip (`ledger_post_batch()`), as TigerBeetle batches. Each has
    its own key and its own `TransferOutcome`: posted (`transfer`), posted before under
    its key (`repeated`, the first transfer; nothing moves), or refused (`refusal`, the
    `LedgerError` `transfer_create` would raise: `InsufficientCredit`,
    `IdempotencyConflict`...). A refused transfer writes nothing and does not roll back
    the others; there are no savepoints: the function locks all the batch's accounts in id
    order once, decides each transfer in order on the balances the earlier ones leave, then
    writes the accepted ones with one INSERT of transfers and one UPDATE ... INSERT of legs.
    Use it wherever the platform posts several transfers together (auto-confirm, the
    demo's gifts via `gifts_grant`, a group session paying each attendee): build one
    `TransferRequest` per payment with a key naming it (`session:<id>:attendee:<member>`),
    call it inside the service's transaction, and act on each outcome (e.g. tell the one
    attendee who is short). Its accounts stay locked until the commit, so keep a batch to
    what one service does (tens to a few thousand transfers).

Idempotency
    Every transfer carries a client-chosen idempotency key (`gift:<member id>`,
    `exchange:<id>:complete`...). Posting a key again with the same legs returns the first
    transfer and moves nothing; with different legs it is refused. This also makes a retry
    after a lost connection safe: the retry finds the transfer if the commit happened.

Federation
    Networks that opt in exchange across their boundaries through the public schema's
    federation ledger (ledger.federation): member(A) -> clearing(A), A -> B in the
    federation ledger, clearing(B) -> member(B), all in one database transaction, with a
    debit limit per network like a mutual-credit clearing house.
"""
