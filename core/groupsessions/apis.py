"""The group-session API: the same moves as the pages (core/groupsessions/actions.py), as
JSON; and the private calendar feed's address."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from core.members.models import Member
from kernel.api import PageNumberPagination, form_serializer
from kernel.forms import NoInput

from . import actions
from .models import GroupSession
from .selectors import access_session, booking_state, sessions_upcoming
from .services import calendar_feed_renew, calendar_feed_revoke, session_create


class SessionSerializer(serializers.ModelSerializer[GroupSession]):
    giver_name = serializers.CharField(source="giver.full_name")
    booked = serializers.IntegerField(source="booked_count")
    waiting = serializers.IntegerField(source="waiting_count")
    video_link = serializers.CharField(help_text="An https link, or empty.")
    your_booking = serializers.SerializerMethodField()

    class Meta:
        model = GroupSession
        fields = [
            "id",
            "title",
            "description",
            "category",
            "format",
            "starts_at",
            "minutes",
            "capacity",
            "booked",
            "waiting",
            "place",
            "video_link",
            "state",
            "giver_name",
            "your_booking",
        ]
        read_only_fields = fields

    def get_your_booking(self, session: GroupSession) -> str | None:
        member = self.context.get("member")
        if member is not None and session.giver_id == member.pk:
            return "giver"
        return booking_state(session)


SessionInput = form_serializer(actions.SessionForm, "GroupSessionInput")


class SessionListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Sessions open for booking, soonest first."""
        member = acting_member(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(sessions_upcoming(member=member), request, self)
        data = SessionSerializer(page, many=True, context={"member": member}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=SessionInput, responses={201: SessionSerializer})
    def post(self, request: Request) -> Response:
        """Post a session you give."""
        member = acting_member(request)
        form = actions.SessionForm(request.data if isinstance(request.data, dict) else {})
        if not form.is_valid():
            return Response(
                {"detail": "Please correct the input.", "errors": form.errors}, status=400
            )
        session = session_create(actor=member, **form.cleaned_data)
        return Response(_detail(session.pk, member), status=201)


def _detail(session_id: int, member: Member) -> dict[str, Any]:
    session = access_session(session_id, member=member)
    return dict(SessionSerializer(session, context={"member": member}).data)


class SessionDetailApi(APIView):
    @extend_schema(responses=SessionSerializer)
    def get(self, request: Request, session_id: int) -> Response:
        member = acting_member(request)
        return Response(_detail(session_id, member))


class SessionActionApi(APIView):
    move: str  # one API view per move: see move_apis()

    def post(self, request: Request, session_id: int) -> Response:
        member = acting_member(request)
        session = access_session(session_id, member=member)
        data = request.data if isinstance(request.data, dict) else {}
        form, _ = actions.session_act(self.move, session=session, actor=member, data=data)
        if form.errors:
            return Response(
                {"detail": "Please correct the input.", "errors": form.errors}, status=400
            )
        return Response(_detail(session.pk, member))


MOVE_INPUTS = {
    name: None
    if action.form is NoInput
    else form_serializer(action.form, f"GroupSession{name.title()}Input")
    for name, action in actions.ACTIONS.items()
}


def move_apis() -> dict[str, type[APIView]]:
    """One documented API view per move of `actions.ACTIONS`, each with its own input."""
    return {
        name: extend_schema_view(
            post=extend_schema(
                operation_id=f"groupsessions_{name}",
                request=MOVE_INPUTS[name],
                responses=SessionSerializer,
                description=f"Make the move '{name}' (as on the session's page).",
            )
        )(type(f"SessionActionApi{name.title()}", (SessionActionApi,), {"move": name}))
        for name in actions.ACTIONS
    }


class FeedSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(help_text="Shown once: subscribe to it in your calendar.")


class CalendarFeedApi(APIView):
    @extend_schema(request=None, responses={201: FeedSerializer})
    def post(self, request: Request) -> Response:
        """Make your private calendar feed's address, replacing (and revoking) any old one."""
        secret = calendar_feed_renew(actor=acting_member(request))
        return Response({"url": request.build_absolute_uri(f"/calendar/{secret}.ics")}, status=201)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Turn your calendar feed off."""
        calendar_feed_revoke(actor=acting_member(request))
        return Response(status=204)
