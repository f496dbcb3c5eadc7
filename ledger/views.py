from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django_tenants.utils import tenant_context

from core.members.auth import acting_member
from core.members.models import Member
from kernel.csvfile import csv_stream
from tenants.models import Network
from tenants.selectors import network_current

from .selectors import StatementLine, member_balance, member_statement, network_totals

PAGE_SIZE = 25


def _before(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


@login_required
def statement_page(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    lines = member_statement(member=member, limit=PAGE_SIZE + 1, before=_before(request))
    return render(
        request,
        "ledger/statement.html",
        {
            "balance": member_balance(member=member),
            "lines": lines[:PAGE_SIZE],
            "next_before": lines[PAGE_SIZE - 1].sequence if len(lines) > PAGE_SIZE else None,
        },
    )


@login_required
def statement_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The member's whole statement as CSV, streamed a page at a time."""
    member = acting_member(request)
    network = network_current()

    def rows() -> Iterator[list[object]]:
        yield ["date", "type", "memo", "minutes", "balance after (minutes)"]
        before = None
        # The body streams after the middleware has handed the connection back to the
        # public schema, so each page is read inside the network explicitly.
        while lines := _page(network, member, before):
            for line in lines:
                yield [
                    line.created_at.isoformat(),
                    line.description,
                    line.memo,
                    line.minutes,
                    line.balance_after,
                ]
            before = lines[-1].sequence

    return csv_stream(rows(), filename="hexitime-statement.csv")


def _page(network: Network, member: Member, before: int | None) -> list[StatementLine]:
    with tenant_context(network):
        return member_statement(member=member, limit=500, before=before)


@login_required
@permission_required("ledger.view_network_totals", raise_exception=True)
def network_totals_page(request: HttpRequest) -> HttpResponse:
    return render(request, "ledger/totals.html", {"totals": network_totals()})
