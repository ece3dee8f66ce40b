"""The in-app inbox over the API, as on the /inbox/ page: ``GET /api/inbox/``
lists the caller's own messages (alert notifications, delivered reports), newest
first, paged with ``limit`` / ``offset`` (``?unread=true`` for the unread ones);
``POST /api/inbox/read/`` marks some (``{"ids": [...]}``) or all
(``{"all": true}``) of them read, the read receipt their senders see. Nobody
reads or marks another user's messages: their ids are ignored.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.authenticated import AuthenticatedRequest
from portal.channels.inbox import inbox_mark_read
from portal.inbox_views import inbox_messages_of
from portal.models import InboxMessage


class InboxMessageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboxMessage
        fields: ClassVar[list[str]] = ["id", "subject", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


@extend_schema(
    tags=["inbox"],
    parameters=[OpenApiParameter("unread", bool, description="Only the messages not yet read.")],
)
class InboxListApi(ListAPIView):
    serializer_class = InboxMessageOutputSerializer

    def get_queryset(self) -> QuerySet[InboxMessage]:
        request: AuthenticatedRequest = self.request  # type: ignore[assignment]
        messages = inbox_messages_of(user=request.user)
        unread = serializers.BooleanField(required=False).run_validation(
            request.query_params.get("unread", False)
        )
        return messages.filter(read_at__isnull=True) if unread else messages


class InboxReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000
    )
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": 'Give the message ids, or "all": true.'})
        return attrs


class InboxReadApi(APIView):
    @extend_schema(
        tags=["inbox"],
        request=InboxReadInputSerializer,
        responses=inline_serializer("InboxReadOutput", {"marked": serializers.IntegerField()}),
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """Mark the caller's messages read; answers how many were unread before."""
        body = InboxReadInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        messages = inbox_messages_of(user=request.user).filter(read_at__isnull=True)
        if not body.validated_data["all"]:
            messages = messages.filter(id__in=body.validated_data["ids"])
        ids = list(messages.values_list("id", flat=True))
        return Response({"marked": inbox_mark_read(recipient=request.user, message_ids=ids)})
