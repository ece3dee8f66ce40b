"""Who may see which portfolio, over the API, for administrators (superusers and
``Role.ADMIN``) only, as in the admin's *Entitlements*:

* ``GET /api/entitlements/?portfolio_id=&user=&team=`` lists them (paged);
* ``POST /api/entitlements/`` ``{"portfolio_id": 3, "user": "alice", "level":
  "view"}`` (or ``"team": "Equity desk"`` instead of ``user``) grants access, or
  changes the level of an existing grant to the same user or team;
* ``DELETE /api/entitlements/{id}/`` revokes one.

Every grant, change and revocation goes through ``portal.services`` and is
audited with the portfolio. Anyone else gets 403, whatever they ask.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import Portfolio
from portal.models import AccessLevel, Entitlement, Role, Team, User
from portal.origins import RequestOrigin
from portal.services import entitlement_grant, entitlement_revoke


class AdministratorsOnly(BasePermission):
    message = "Only administrators manage entitlements."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


class EntitlementOutputSerializer(serializers.ModelSerializer):
    portfolio_code = serializers.CharField(source="portfolio.code", read_only=True)
    user = serializers.CharField(source="user.username", default=None, read_only=True)
    team = serializers.CharField(source="team.name", default=None, read_only=True)

    class Meta:
        model = Entitlement
        fields: ClassVar[list[str]] = [
            "id",
            "portfolio_id",
            "portfolio_code",
            "user",
            "team",
            "level",
            "granted_at",
        ]
        read_only_fields = fields


class EntitlementInputSerializer(serializers.Serializer):
    portfolio_id = serializers.IntegerField(min_value=1)
    user = serializers.CharField(required=False, help_text="A username; or give team.")
    team = serializers.CharField(required=False, help_text="A team's name; or give user.")
    level = serializers.ChoiceField(choices=AccessLevel.choices, default=AccessLevel.VIEW)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user" in attrs) == ("team" in attrs):
            raise serializers.ValidationError({"user": "Give exactly one of user or team."})
        portfolio = Portfolio.objects.filter(pk=attrs["portfolio_id"]).first()
        if portfolio is None:
            raise serializers.ValidationError({"portfolio_id": "No such portfolio."})
        attrs["portfolio"] = portfolio
        if "user" in attrs:
            attrs["user"] = User.objects.filter(username=attrs["user"]).first()
            if attrs["user"] is None:
                raise serializers.ValidationError({"user": "No such user."})
        else:
            attrs["team"] = Team.objects.filter(name=attrs["team"]).first()
            if attrs["team"] is None:
                raise serializers.ValidationError({"team": "No such team."})
        return attrs


class EntitlementFilterSerializer(serializers.Serializer):
    portfolio_id = serializers.IntegerField(required=False, min_value=1)
    user = serializers.CharField(required=False)
    team = serializers.CharField(required=False)


@extend_schema(
    tags=["entitlements"],
    parameters=[
        OpenApiParameter("portfolio_id", int),
        OpenApiParameter("user", str, description="A username (exact)."),
        OpenApiParameter("team", str, description="A team's name (exact)."),
    ],
)
class EntitlementListCreateApi(ListAPIView):
    permission_classes = (*APIView.permission_classes, AdministratorsOnly)
    serializer_class = EntitlementOutputSerializer

    def get_queryset(self) -> QuerySet[Entitlement]:
        filters = EntitlementFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        rows = Entitlement.objects.select_related("portfolio", "user", "team").order_by("id")
        if "portfolio_id" in filters.validated_data:
            rows = rows.filter(portfolio_id=filters.validated_data["portfolio_id"])
        if "user" in filters.validated_data:
            rows = rows.filter(user__username=filters.validated_data["user"])
        if "team" in filters.validated_data:
            rows = rows.filter(team__name=filters.validated_data["team"])
        return rows

    @extend_schema(
        request=EntitlementInputSerializer,
        responses={201: EntitlementOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        """Grant a user or a team access to a portfolio, or change the level."""
        body = EntitlementInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entitlement = entitlement_grant(
            actor=request.user,  # type: ignore[arg-type]
            portfolio=data["portfolio"],
            user=data.get("user"),
            team=data.get("team"),
            level=data["level"],
            origin=RequestOrigin.of(request._request),
        )
        return Response(
            EntitlementOutputSerializer(entitlement).data, status=status.HTTP_201_CREATED
        )


class EntitlementDetailApi(APIView):
    permission_classes = (*APIView.permission_classes, AdministratorsOnly)

    @extend_schema(tags=["entitlements"], responses={204: None})
    def delete(self, request: Request, entitlement_id: int) -> Response:
        """Revoke one entitlement."""
        entitlement = get_object_or_404(
            Entitlement.objects.select_related("portfolio", "user", "team"), pk=entitlement_id
        )
        entitlement_revoke(
            actor=request.user,  # type: ignore[arg-type]
            entitlement=entitlement,
            origin=RequestOrigin.of(request._request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
