"""``GET /api/audit-events/``: the audit log for administrators and compliance
officers (``portal.audit_selectors``: the same permission and filters as the
audit page), newest first, paged with ``limit`` / ``offset``.

Read-only by construction: the view answers GET (and HEAD, OPTIONS) only, so any
write method is a 405; the rows themselves refuse changes in the ORM and, on
PostgreSQL, in the database (``portal/migrations/0002``, ``0005``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission

from portal.api_tabular import (
    FORMAT_PARAMETER,
    Column,
    Table,
    TabularApiMixin,
    tabular_file_response,
    tabular_responses,
    wants_file,
)
from portal.audit_selectors import AUDIT_READERS_ONLY, audit_events_filtered, audit_readable_by
from portal.authenticated import AuthenticatedRequest
from portal.models import AuditAction, AuditEvent


class AuditFilterInputSerializer(serializers.Serializer):
    """The query parameters; each one left out does not narrow."""

    user = serializers.CharField(required=False, help_text="The actor's username (exact).")
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)
    target_type = serializers.CharField(
        required=False, help_text='The object\'s model label, e.g. "analytics.Portfolio".'
    )
    target_id = serializers.CharField(required=False, help_text="The object's id.")
    portfolio_id = serializers.IntegerField(required=False, min_value=1)
    date_from = serializers.DateField(
        required=False, help_text="First day (inclusive), in the portal's time zone."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last day (inclusive), in the portal's time zone."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_to": "date_to must not be before date_from"})
        return attrs


class AuditEventOutputSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display")

    class Meta:
        model = AuditEvent
        fields: ClassVar[list[str]] = [
            "id",
            "created_at",
            "actor_id",
            "actor_username",
            "action",
            "action_label",
            "target_type",
            "target_id",
            "target_repr",
            "portfolio_id",
            "ip_address",
            "user_agent",
            "details",
        ]
        read_only_fields = fields


class CanReadAuditLog(BasePermission):
    """Administrators and compliance officers (checked before the filters, so
    anyone else gets 403 whatever they send)."""

    message = AUDIT_READERS_ONLY

    def has_permission(self, request, view) -> bool:
        return audit_readable_by(request.user)


AUDIT_EVENT_COLUMNS = (
    Column("id", "Id", "integer"),
    Column("created_at", "When", "datetime"),
    Column("actor_id", "Actor id", "integer"),
    Column("actor_username", "Actor"),
    Column("action", "Action"),
    Column("action_label", "Action label", source=lambda event: event.get_action_display()),
    Column("target_type", "Object type"),
    Column("target_id", "Object id"),
    Column("target_repr", "Object"),
    Column("portfolio_id", "Portfolio id", "integer"),
    Column("ip_address", "IP address"),
    Column("user_agent", "User agent"),
    Column("details", "Details", "json"),
)


class AuditEventListApi(TabularApiMixin, ListAPIView):
    """Audit events matching the filters (administrators and compliance officers
    only: anyone else gets 403), newest first. JSON is paged; ``format`` csv,
    xlsx or parquet gives every matching event as a file, itself audited as
    ``audit.exported`` like the audit page's export."""

    serializer_class = AuditEventOutputSerializer
    # The API's defaults (authenticated; token scopes) and the audit readers' check.
    permission_classes = (*ListAPIView.permission_classes, CanReadAuditLog)
    request: AuthenticatedRequest

    @extend_schema(
        parameters=[AuditFilterInputSerializer, FORMAT_PARAMETER],
        responses=tabular_responses(AuditEventOutputSerializer(many=True)),
    )
    def get(self, request, *args, **kwargs):
        if wants_file(request):
            filters = {key: value for key, value in request.query_params.items() if key != "format"}
            return tabular_file_response(
                request=request,
                table=Table(columns=AUDIT_EVENT_COLUMNS, rows=self.get_queryset(), sheet="Audit"),
                data="audit_events",
                file_stem="audit-events",
                details=filters,
                action=AuditAction.AUDIT_EXPORTED,
            )
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        filters = AuditFilterInputSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return audit_events_filtered(viewer=self.request.user, **filters.validated_data)
