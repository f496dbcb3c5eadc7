"""Stories in the API: the same selectors and services as the pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import ErrorSerializer
from kernel.errors import PermissionDenied

from .models import TEXT_LIMIT, Story
from .selectors import (
    access_story,
    stories_mine,
    stories_published,
    stories_submitted,
    story_byline,
)
from .services import story_pick, story_withdraw, story_write
from .sources import SOURCES


class StorySerializer(serializers.ModelSerializer[Story]):
    class Meta:
        model = Story
        fields = [
            "id",
            "source",
            "source_id",
            "subject",
            "text",
            "consent",
            "show_name",
            "withdrawn_at",
            "on_impact",
            "on_home",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SubmittedSerializer(StorySerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True)

    class Meta(StorySerializer.Meta):
        fields = [*StorySerializer.Meta.fields, "author_name"]
        read_only_fields = fields


class PublishedSerializer(serializers.Serializer[Any]):
    subject = serializers.CharField()
    text = serializers.CharField()
    byline = serializers.CharField(help_text="The author's name, or empty if they chose so.")


class StoryInputSerializer(serializers.Serializer[Any]):
    source = serializers.ChoiceField(choices=list(SOURCES))  # type: ignore[assignment]  # a field named "source"
    source_id = serializers.IntegerField(min_value=1)
    text = serializers.CharField(max_length=TEXT_LIMIT)
    consent = serializers.BooleanField()
    show_name = serializers.BooleanField(default=False)


class StoryListApi(APIView):
    @extend_schema(responses=StorySerializer(many=True))
    def get(self, request: Request) -> Response:
        """Your stories, withdrawn ones too."""
        return Response(
            StorySerializer(stories_mine(member=acting_member(request)), many=True).data
        )

    @extend_schema(request=StoryInputSerializer, responses={201: StorySerializer})
    def post(self, request: Request) -> Response:
        """Share (or edit) your story about a completed exchange you took part in."""
        data = StoryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        story = story_write(actor=acting_member(request), **data.validated_data)
        return Response(StorySerializer(story).data, status=201)


class StoryWithdrawApi(APIView):
    @extend_schema(request=None, responses=StorySerializer)
    def post(self, request: Request, story_id: int) -> Response:
        """Withdraw your story: it disappears from every page."""
        member = acting_member(request)
        story = story_withdraw(actor=member, story=access_story(story_id, member=member))
        return Response(StorySerializer(story).data)


class SubmittedApi(APIView):
    @extend_schema(responses=SubmittedSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Organisers: every story that stands."""
        stories = stories_submitted(actor=acting_member(request))
        return Response(SubmittedSerializer(stories, many=True).data)


class PickSerializer(serializers.Serializer[Any]):
    on_impact = serializers.BooleanField()
    on_home = serializers.BooleanField()


class StoryPickApi(APIView):
    @extend_schema(request=PickSerializer, responses=SubmittedSerializer)
    def post(self, request: Request, story_id: int) -> Response:
        """Organisers: where a consented story appears (audited)."""
        member = acting_member(request)
        data = PickSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        story = story_pick(
            actor=member, story=access_story(story_id, member=member), **data.validated_data
        )
        return Response(SubmittedSerializer(story).data)


class PublishedApi(APIView):
    permission_classes = [AllowAny]

    class PlaceSerializer(serializers.Serializer[Any]):
        place = serializers.ChoiceField(choices=["impact", "home"], default="home")

    @extend_schema(
        parameters=[PlaceSerializer],
        responses={200: PublishedSerializer(many=True), 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        """Public: the stories organisers picked for the home page (or, signed in, the
        impact page)."""
        query = self.PlaceSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        place = query.validated_data["place"]
        if place == "impact" and not request.user.is_authenticated:
            raise PermissionDenied(_("Sign in to see the impact page's stories."))
        stories: list[dict[str, Any]] = [
            {"subject": s.subject, "text": s.text, "byline": story_byline(s)}
            for s in stories_published(place=place)
        ]
        return Response(PublishedSerializer(stories, many=True).data)
