"""Reading the ledger: balances, statements, network totals, the audit, and members' activity
for reports over many networks (core.insights)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from psycopg import sql

from core.members.models import Member
from kernel.db import connection, schemas_union_fetch

from .models import GIFT_KINDS, Account, Entry, Transfer


def member_balance(*, member: Member) -> int:
    """The member's balance in minutes (0 before their account is opened)."""
    account = Account.objects.filter(kind=Account.Kind.MEMBER, owner_id=member.pk).first()
    return account.balance if account is not None else 0


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    sequence: int  # the entry's place in the account's history: the page key
    created_at: datetime
    kind: str
    kind_label: str
    memo: str
    minutes: int
    balance_after: int
    # The other member of an exchange or a gift in this network ("A former member" once
    # they have closed their account); empty for projects, the pot and other networks.
    counterparty: str = ""

    @property
    def description(self) -> str:
        """What the line was, for people: "Gift from Alice Smith", "Gift to Bob Jones",
        "Exchange with Carol Lee", "Gift to the community pot"."""
        if self.kind == Transfer.Kind.GIFT_MEMBER and self.counterparty:
            if self.minutes > 0:
                return _("Gift from %(name)s") % {"name": self.counterparty}
            return _("Gift to %(name)s") % {"name": self.counterparty}
        if self.counterparty and self.kind not in GIFT_KINDS:
            return _("%(kind)s with %(name)s") % {
                "kind": self.kind_label,
                "name": self.counterparty,
            }
        return self.kind_label


# The member's lines with the other member of each (the first by name, as the ORM's
# ordering of members would give; none for projects, the pot and other networks). Written
# as SQL: the ORM built and compiled this query in 1.7 ms of CPU a call, against 0.2 ms to
# run it (cProfile, in-process, on the pages bench's data), and it is on every home page.
_STATEMENT = """
SELECT e.id, e.sequence, t.created_at, t.kind, t.memo, e.amount, e.balance_after,
       (SELECT m.full_name FROM members_member m
         WHERE m.id IN (SELECT other.owner_id
                          FROM ledger_account other
                          JOIN ledger_entry leg ON leg.account_id = other.id
                         WHERE leg.transfer_id = e.transfer_id AND other.kind = %(member_kind)s
                           AND other.owner_id IS DISTINCT FROM %(member)s)
         ORDER BY m.full_name LIMIT 1)
  FROM ledger_entry e
  JOIN ledger_account a ON a.id = e.account_id
  JOIN ledger_transfer t ON t.id = e.transfer_id
 WHERE a.kind = %(member_kind)s AND a.owner_id = %(member)s
   AND (%(before)s::bigint IS NULL OR e.sequence < %(before)s)
 ORDER BY e.sequence DESC
 LIMIT %(limit)s
"""


def member_statement(
    *, member: Member, limit: int = 50, before: int | None = None
) -> list[StatementLine]:
    """The member's own entries, newest first (in posting order, by `sequence`, never by
    id), with the balance after each and the other member of each exchange or gift, in one
    query.

    Keyset-paged: pass the last line's `sequence` as `before` for the next page.
    """
    labels = dict(Transfer.Kind.choices)
    with connection.cursor() as cursor:
        cursor.execute(
            _STATEMENT,
            {
                "member": member.pk,
                "member_kind": Account.Kind.MEMBER.value,
                "before": before,
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    return [
        StatementLine(
            entry_id=entry_id,
            sequence=sequence,
            created_at=created_at,
            kind=kind,
            kind_label=str(labels.get(kind, kind)),
            memo=memo,
            minutes=amount,
            balance_after=balance_after,
            counterparty=counterparty or "",
        )
        for entry_id, sequence, created_at, kind, memo, amount, balance_after, counterparty in rows
    ]


def member_balance_and_statement(*, member: Member, limit: int) -> tuple[int, list[StatementLine]]:
    """The balance and the newest `limit` lines of the statement, in one query: the newest
    entry's `balance_after` is the balance (ledger_post() writes both under the account's
    lock, and the audit checks they agree). Only a member without entries costs a second
    query, for an account opened with nothing on it."""
    lines = member_statement(member=member, limit=limit)
    return (lines[0].balance_after if lines else member_balance(member=member)), lines


@dataclass(frozen=True)
class NetworkTotals:
    """Where the credit a network issued is. Every account is one of issuance, member,
    project, community pot or clearing, and all balances sum to zero, so what was issued is
    exactly what members, project budgets, the pot and the federation position hold
    (`balanced`)."""

    issued: int  # minutes ever issued (gifts, project budgets), net of reversals
    held_by_members: int
    held_by_projects: int  # budgets funded and not yet paid out or returned
    held_by_pot: int  # given to the community pot and not yet granted (core.giving)
    # The clearing account: negative when members earned more from partner networks
    # than they spent there, positive when they spent more.
    federation_position: int
    members_with_credit: int
    exchanged: int  # minutes moved from member to member (local exchanges)
    exchanges: int
    transfers: int

    @property
    def held(self) -> int:
        return (
            self.held_by_members
            + self.held_by_projects
            + self.held_by_pot
            + self.federation_position
        )

    @property
    def balanced(self) -> bool:
        return self.issued == self.held


def network_totals() -> NetworkTotals:
    accounts = Account.objects.aggregate(
        issued=Sum("balance", filter=Q(kind=Account.Kind.ISSUANCE), default=0),
        held=Sum("balance", filter=Q(kind=Account.Kind.MEMBER), default=0),
        projects=Sum("balance", filter=Q(kind=Account.Kind.PROJECT), default=0),
        pot=Sum("balance", filter=Q(kind=Account.Kind.POT), default=0),
        clearing=Sum("balance", filter=Q(kind=Account.Kind.CLEARING), default=0),
        with_credit=Count("id", filter=Q(kind=Account.Kind.MEMBER, balance__gt=0)),
    )
    exchanged = Entry.objects.filter(transfer__kind=Transfer.Kind.EXCHANGE, amount__gt=0).aggregate(
        minutes=Sum("amount", default=0), exchanges=Count("transfer", distinct=True)
    )
    return NetworkTotals(
        issued=-accounts["issued"],
        held_by_members=accounts["held"],
        held_by_projects=accounts["projects"],
        held_by_pot=accounts["pot"],
        federation_position=accounts["clearing"],
        members_with_credit=accounts["with_credit"],
        exchanged=exchanged["minutes"],
        exchanges=exchanged["exchanges"],
        transfers=Transfer.objects.count(),
    )


# --- Member activity per period, for reports over many networks (core.insights) ----------
# Reports that read every network's schema in one statement (the equality report, the
# staff figures across networks) embed this subquery rather than naming the ledger's tables
# and kinds themselves: the ledger decides what counts as help given and received.

# Transfers that are members helping someone: exchanges here and with another network, and
# volunteered project hours. Never gifts, funding, closures or corrections on their own.
ACTIVITY_KINDS = (Transfer.Kind.EXCHANGE, Transfer.Kind.PROJECT_CREDIT, Transfer.Kind.FEDERATION)


def member_activity_sql(schema: str, *, since: sql.Composable) -> sql.Composed:
    """A subquery over network `schema`'s ledger (named with its schema, so many networks'
    can be read in one statement): one row per leg of a member account in a transfer of
    `ACTIVITY_KINDS` dated `since` or later, with columns `member_id` (the account's owner),
    `active` (the transfer was not reversed, nor is itself a reversal), `given` (minutes
    credited: a credit, or the reversal of one, which counts against it) and `received`
    (minutes spent on an exchange, here or with another network; projects pay for
    volunteering, not members). A reversal counts against the transfer it undoes, dated as
    that transfer was. Sum the columns by member for their activity in the period.

    `since` is a placeholder or literal (`sql.Placeholder("since")`)."""
    return sql.SQL(_MEMBER_ACTIVITY).format(
        schema=sql.Identifier(schema),
        entries=sql.Identifier(Entry._meta.db_table),
        accounts=sql.Identifier(Account._meta.db_table),
        transfers=sql.Identifier(Transfer._meta.db_table),
        since=since,
        member=sql.Literal(Account.Kind.MEMBER.value),
        volunteering=sql.Literal(Transfer.Kind.PROJECT_CREDIT.value),
        kinds=sql.SQL(", ").join(sql.Literal(kind.value) for kind in ACTIVITY_KINDS),
    )


_MEMBER_ACTIVITY = """
                SELECT a.owner_id AS member_id,
                       t.reverses_id IS NULL AND rv.id IS NULL AS active,
                       -- a credit, or the reversal of one
                       CASE WHEN (t.reverses_id IS NULL) = (e.amount > 0) THEN e.amount ELSE 0 END
                         AS given,
                       -- a debit for an exchange, or its reversal (projects pay, not members)
                       CASE WHEN coalesce(r.kind, t.kind) <> {volunteering}
                             AND (t.reverses_id IS NULL) = (e.amount < 0) THEN -e.amount ELSE 0 END
                         AS received
                  FROM {schema}.{entries} e
                  JOIN {schema}.{accounts} a ON a.id = e.account_id
                  JOIN {schema}.{transfers} t ON t.id = e.transfer_id
                  LEFT JOIN {schema}.{transfers} r ON r.id = t.reverses_id  -- what t undoes
                  LEFT JOIN {schema}.{transfers} rv ON rv.reverses_id = t.id  -- undoes t
                 WHERE a.kind = {member}
                   AND coalesce(r.kind, t.kind) IN ({kinds})
                   AND coalesce(r.created_at, t.created_at) >= {since}"""


@dataclass
class AuditReport:
    """What `hexitime ledger audit` found in one network."""

    network: str
    accounts: int = 0
    transfers: int = 0
    total_balance: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


_AUDIT_QUERIES = {
    "cached balance differs from its entries": """
        SELECT a.id, a.balance, coalesce(sum(e.amount), 0)::bigint
          FROM ledger_account a LEFT JOIN ledger_entry e ON e.account_id = a.id
         GROUP BY a.id HAVING a.balance <> coalesce(sum(e.amount), 0)""",
    # Posting order is `sequence` (see Entry), never id.
    "cached balance differs from its last entry's running balance": """
        SELECT a.id, a.balance, last.balance_after FROM ledger_account a
          JOIN (SELECT DISTINCT ON (account_id) account_id, balance_after FROM ledger_entry
                 ORDER BY account_id, sequence DESC) last ON last.account_id = a.id
         WHERE last.balance_after <> a.balance""",
    "running balance differs from the sum of the account's entries up to it": """
        SELECT id, account_id, sequence, balance_after, running FROM (
            SELECT id, account_id, sequence, balance_after,
                   sum(amount) OVER (PARTITION BY account_id ORDER BY sequence) AS running
              FROM ledger_entry) e
         WHERE balance_after <> running""",
    "entry sequence numbers are not 1..n ending at the account's last_sequence": """
        SELECT a.id, a.last_sequence, count(e.id), coalesce(max(e.sequence), 0)
          FROM ledger_account a LEFT JOIN ledger_entry e ON e.account_id = a.id
         GROUP BY a.id
        HAVING count(e.id) <> a.last_sequence OR coalesce(max(e.sequence), 0) <> a.last_sequence
            OR coalesce(min(e.sequence), 1) <> 1""",
    "transfer does not balance": """
        SELECT t.id, count(e.id), coalesce(sum(e.amount), 0)::bigint
          FROM ledger_transfer t LEFT JOIN ledger_entry e ON e.transfer_id = t.id
         GROUP BY t.id HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0""",
    # Entries carry no foreign keys (migration 0009): their links are checked here.
    "entry without its account": """
        SELECT e.id, e.account_id FROM ledger_entry e
         WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.id = e.account_id)""",
    "entry without its transfer": """
        SELECT e.id, e.transfer_id FROM ledger_entry e
         WHERE NOT EXISTS (SELECT 1 FROM ledger_transfer t WHERE t.id = e.transfer_id)""",
    "balance below its floor": """
        SELECT id, balance, floor FROM ledger_account
         WHERE floor IS NOT NULL AND balance < floor""",
}


def ledger_audit(*, network_name: str, federation_position: int | None) -> AuditReport:
    """Check the current network's ledger against every invariant (see the package
    docstring), from the rows themselves rather than from cached figures."""
    report = AuditReport(network=network_name)
    with connection.cursor() as cursor:
        for problem, query in _AUDIT_QUERIES.items():
            cursor.execute(query)
            report.problems += [f"{problem}: {row}" for row in cursor.fetchall()]
        cursor.execute("SELECT count(*), coalesce(sum(balance), 0)::bigint FROM ledger_account")
        report.accounts, report.total_balance = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM ledger_transfer")
        (report.transfers,) = cursor.fetchone()
        cursor.execute("SELECT balance FROM ledger_account WHERE kind = 'clearing'")
        (clearing,) = cursor.fetchone()
    if report.total_balance != 0:
        report.problems.append(f"balances sum to {report.total_balance}, not 0")
    if clearing != (federation_position or 0):
        position = federation_position or 0
        report.problems.append(f"clearing balance {clearing} differs from position {position}")
    return report


# --- Ledger figures for the platform-staff console (tenants.services.overview) -------------


@dataclass(frozen=True)
class SchemaActivity:
    """One network's ledger, as the staff console shows it."""

    last_transfer: datetime | None
    minutes_exchanged: int  # credited to members by exchanges (each exchange counted once)


def ledger_activity_by_schema(schema_names: list[str]) -> dict[str, SchemaActivity]:
    """The latest transfer and the minutes exchanged between members in each of the named
    network schemas, in one query however many there are (a UNION ALL over the schemas;
    the public schema runs it, so no tenant needs to be active)."""
    if not schema_names:
        return {}
    branch = sql.SQL(
        """SELECT {name}::text,
          (SELECT max(created_at) FROM {schema}.{transfers}),
          (SELECT coalesce(sum(e.amount), 0) FROM {schema}.{entries} e
             JOIN {schema}.{transfers} t ON t.id = e.transfer_id
            WHERE t.kind = {exchange} AND e.amount > 0)"""
    )
    tables = {
        "transfers": sql.Identifier(Transfer._meta.db_table),
        "entries": sql.Identifier(Entry._meta.db_table),
        "exchange": sql.Literal(Transfer.Kind.EXCHANGE.value),
    }
    rows = schemas_union_fetch(branch, schema_names, **tables)
    return {
        schema: SchemaActivity(last_transfer=last_transfer, minutes_exchanged=int(minutes))
        for schema, last_transfer, minutes in rows
    }
