from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import PageNumberPagination

from .models import HoursConfirmation, Project, Volunteer
from .selectors import (
    access_project,
    access_volunteer,
    project_list,
    project_progress,
    project_volunteers,
)
from .services import (
    project_close,
    project_decline,
    project_fund,
    project_propose,
    volunteer_confirm_hours,
    volunteer_pledge,
)


class ProjectSerializer(serializers.ModelSerializer[Project]):
    """A project with its progress; minutes throughout (60 = one hour of credit)."""

    lead_id = serializers.IntegerField(read_only=True)
    lead_name = serializers.CharField(source="lead.full_name", read_only=True)
    pledged_minutes = serializers.SerializerMethodField()
    confirmed_minutes = serializers.SerializerMethodField()
    remaining_minutes = serializers.SerializerMethodField()
    volunteer_count = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "title",
            "aim",
            "description",
            "budget_minutes",
            "skills_wanted",
            "starts_on",
            "ends_on",
            "state",
            "declined_reason",
            "lead_id",
            "lead_name",
            "pledged_minutes",
            "confirmed_minutes",
            "remaining_minutes",
            "volunteer_count",
            "created_at",
            "funded_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_pledged_minutes(self, project: Project) -> int:
        return project_progress(project=project).pledged_minutes

    def get_confirmed_minutes(self, project: Project) -> int:
        return project_progress(project=project).confirmed_minutes

    def get_remaining_minutes(self, project: Project) -> int:
        return project_progress(project=project).remaining_minutes

    def get_volunteer_count(self, project: Project) -> int:
        return project_progress(project=project).volunteers


class VolunteerSerializer(serializers.ModelSerializer[Volunteer]):
    member_id = serializers.IntegerField(read_only=True)
    member_name = serializers.CharField(source="member.full_name", read_only=True)

    class Meta:
        model = Volunteer
        fields = [
            "id",
            "member_id",
            "member_name",
            "pledged_minutes",
            "confirmed_minutes",
            "joined_at",
        ]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    volunteers = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "volunteers"]
        read_only_fields = fields

    @extend_schema_field(VolunteerSerializer(many=True))
    def get_volunteers(self, project: Project) -> list[Any]:
        return list(VolunteerSerializer(project_volunteers(project=project), many=True).data)


class ConfirmationSerializer(serializers.ModelSerializer[HoursConfirmation]):
    volunteer_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = HoursConfirmation
        fields = ["id", "volunteer_id", "key", "minutes", "worked_on", "created_at"]
        read_only_fields = fields


class ProposalInputSerializer(serializers.Serializer[Any]):
    """Shapes only; the rules (lengths, quarter hours, dates) live in the service."""

    title = serializers.CharField(allow_blank=True, max_length=20_000)
    aim = serializers.CharField(allow_blank=True, max_length=20_000)
    description = serializers.CharField(allow_blank=True, max_length=20_000)
    budget_minutes = serializers.IntegerField()
    skills_wanted = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, max_length=100
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


def _detail(project_id: int, request: Request) -> Response:
    project = access_project(project_id, member=acting_member(request))
    return Response(ProjectDetailSerializer(project).data)


class ProjectListApi(APIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer[Any]):
        state = serializers.ChoiceField(choices=Project.State.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ProjectSerializer(many=True))
    def get(self, request: Request) -> Response:
        # A plain dict: DRF reads an empty value in a QueryDict as no value at all.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        projects = project_list(
            member=acting_member(request), state=filters.validated_data.get("state", "")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(projects, request, self)
        return paginator.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(request=ProposalInputSerializer, responses={201: ProjectDetailSerializer})
    def post(self, request: Request) -> Response:
        data = ProposalInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_propose(actor=acting_member(request), **data.validated_data)
        response = _detail(project.pk, request)
        response.status_code = 201
        return response


class ProjectDetailApi(APIView):
    @extend_schema(responses=ProjectDetailSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        return _detail(project_id, request)


class ProjectFundApi(APIView):
    @extend_schema(request=None, responses=ProjectDetailSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        member = acting_member(request)
        project_fund(actor=member, project=access_project(project_id, member=member))
        return _detail(project_id, request)


class ProjectDeclineApi(APIView):
    class DeclineSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(allow_blank=True, max_length=20_000)

    @extend_schema(request=DeclineSerializer, responses=ProjectDetailSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        member = acting_member(request)
        project = access_project(project_id, member=member)
        data = self.DeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project_decline(actor=member, project=project, reason=data.validated_data["reason"])
        return _detail(project_id, request)


class ProjectCloseApi(APIView):
    @extend_schema(request=None, responses=ProjectDetailSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        member = acting_member(request)
        project_close(actor=member, project=access_project(project_id, member=member))
        return _detail(project_id, request)


class ProjectVolunteerApi(APIView):
    class PledgeSerializer(serializers.Serializer[Any]):
        pledged_minutes = serializers.IntegerField()

    @extend_schema(request=PledgeSerializer, responses=VolunteerSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        """Volunteer for a funded project, or change your pledge."""
        member = acting_member(request)
        project = access_project(project_id, member=member)
        data = self.PledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        volunteer = volunteer_pledge(actor=member, project=project, **data.validated_data)
        return Response(VolunteerSerializer(volunteer).data)


class ProjectConfirmationApi(APIView):
    class ConfirmSerializer(serializers.Serializer[Any]):
        volunteer_id = serializers.IntegerField()
        minutes = serializers.IntegerField()
        worked_on = serializers.DateField(
            help_text="The day the hours were given. A volunteer's day is confirmed once: "
            "the same day and hours again return the first confirmation.",
        )
        key = serializers.CharField(
            required=False,
            max_length=64,
            help_text="Your name for this confirmation. Send the same key again (a retry) "
            "and it pays once.",
        )

    @extend_schema(request=ConfirmSerializer, responses={201: ConfirmationSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        """The lead confirms hours a volunteer gave; the volunteer is paid at once."""
        member = acting_member(request)
        project = access_project(project_id, member=member)
        data = self.ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        confirmation = volunteer_confirm_hours(
            actor=member,
            project=project,
            volunteer=access_volunteer(fields["volunteer_id"], project=project),
            minutes=fields["minutes"],
            worked_on=fields["worked_on"],
            key=fields.get("key") or uuid.uuid4().hex,
        )
        return Response(ConfirmationSerializer(confirmation).data, status=201)
