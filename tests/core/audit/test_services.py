from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import DatabaseError, transaction
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.audit.selectors import audit_event_list
from core.audit.services import audit_record

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network


def test_events_are_recorded_in_the_network_where_they_happen(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    organiser = make_member(network_a, full_name="Olivia Organiser")
    with tenant_context(network_a):
        audit_record(
            actor=organiser,
            verb="role.change",
            target=organiser,
            before={"role": "member"},
            after={"role": "organiser"},
        )
        event = audit_event_list(target_type="members.member").get()
        assert (event.actor_label, event.verb, event.after) == (
            "Olivia Organiser",
            "role.change",
            {"role": "organiser"},
        )
    with tenant_context(network_b):
        assert not AuditEvent.objects.exists()


def test_the_database_refuses_to_change_or_delete_an_event(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    actor = make_member(network_a)
    with tenant_context(network_a):
        event = audit_record(actor=actor, verb="member.approve", target=actor)
        for change in (
            lambda: AuditEvent.objects.filter(pk=event.pk).update(verb="forged"),
            lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                change()
        assert AuditEvent.objects.get(pk=event.pk).verb == "member.approve"
