"""Who is acting: the signed-in member, typed as one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from core.members.models import Member


def acting_member(request: HttpRequest | Request) -> Member:
    """The signed-in member behind `login_required` or `IsAuthenticated`.

    Refuses (403) anything else, so a view wired without its guard fails closed.
    """
    from core.members.models import Member

    user = request.user
    if not isinstance(user, Member) or not user.is_authenticated:
        raise PermissionDenied
    return user
