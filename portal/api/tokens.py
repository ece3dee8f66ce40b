"""Personal API tokens over the API (``portal.api_tokens`` holds the rules).

* ``POST /api/tokens/`` ``{"name", "scope": "read"|"write", "expires_at"}`` makes a
  token of the caller and answers 201 with its secret in ``token``: the only time
  the secret is shown. Over a token this needs a ``write`` token (a ``read`` one is
  refused with 403 like any other write).
* ``GET /api/tokens/``: the caller's tokens (an administrator's: everyone's), with
  ``id`` (the secret's first 15 characters, ``token_key``), never the secret.
* ``DELETE /api/tokens/{id}/``: revoke; someone else's token is 404 unless the
  caller is an administrator.
* ``POST /api/token/`` ``{"username", "password"}``: a ``write`` token named
  "Login token" lasting ``API_LOGIN_TOKEN_HOURS``, for scripts that log in.
  Password checks go through ``django.contrib.auth.authenticate`` with the
  request, so django-axes counts failures and locks out (429); the endpoint is
  also throttled per client address (``TokenLoginThrottle``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.throttles import TokenLoginThrottle
from portal.api_tokens import (
    ApiTokenInvalid,
    api_token_create,
    api_token_get_for_user,
    api_token_revoke,
    api_tokens_visible_to,
)
from portal.authenticated import AuthenticatedRequest
from portal.models import ApiToken, ApiTokenScope, User
from portal.origins import RequestOrigin

LOGIN_TOKEN_NAME = "Login token"  # noqa: S105 (a label, not a secret)
WRONG_CREDENTIALS = "Unable to log in with the username and password given."


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="token_key", help_text="The secret's first 15 characters: names the token."
    )
    user = serializers.CharField(source="user.username", help_text="The token's owner.")
    expires_at = serializers.DateTimeField(
        source="expiry", allow_null=True, help_text="When it stops working (null: never)."
    )
    expired = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields: ClassVar[list[str]] = [
            "id",
            "user",
            "name",
            "scope",
            "created",
            "expires_at",
            "expired",
            "last_used_at",
        ]
        read_only_fields = fields

    def get_expired(self, token: ApiToken) -> bool:
        return token.expiry is not None and token.expiry <= timezone.now()


class ApiTokenCreatedSerializer(ApiTokenOutputSerializer):
    token = serializers.SerializerMethodField(
        help_text="The secret, shown this once: send it as `Authorization: Token <secret>`."
    )

    class Meta(ApiTokenOutputSerializer.Meta):
        fields: ClassVar[list[str]] = [*ApiTokenOutputSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, token: ApiToken) -> str:
        return self.context["secret"]


class ApiTokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiTokenScope.choices)
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "In the future and at most API_TOKEN_MAX_DAYS (default 90) days ahead; "
            "required except for administrators (null: never expires)."
        ),
    )


def _invalid(error: ApiTokenInvalid) -> ValidationError:
    return ValidationError({error.field: [error.message]})


class ApiTokenListCreateApi(ListAPIView):
    """The caller's tokens (everyone's for an administrator), newest first; POST
    makes one and shows its secret once."""

    serializer_class = ApiTokenOutputSerializer
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[ApiToken]:
        return api_tokens_visible_to(self.request.user)

    @extend_schema(
        request=ApiTokenInputSerializer,
        responses={
            201: ApiTokenCreatedSerializer,
            400: OpenApiResponse(description="A field is wrong: the body names it."),
        },
        description="Make a token; the response's `token` is the secret, shown only now.",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ApiTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token, secret = api_token_create(
                user=request.user,
                name=data.validated_data["name"],
                scope=data.validated_data["scope"],
                expires_at=data.validated_data.get("expires_at"),
                origin=RequestOrigin.of(request),
            )
        except ApiTokenInvalid as error:
            raise _invalid(error) from error
        body = ApiTokenCreatedSerializer(token, context={"secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    """Revoke one token (the caller's own, or any for an administrator)."""

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="No such token.")},
    )
    def delete(self, request: AuthenticatedRequest, token_key: str) -> Response:
        token = api_token_get_for_user(user=request.user, token_key=token_key)
        if token is None:
            raise Http404("No such token.")
        api_token_revoke(actor=request.user, token=token, origin=RequestOrigin.of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class LoginTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <secret>`.")
    expires_at = serializers.DateTimeField()


class ApiTokenLoginApi(APIView):
    """Username and password for a write token lasting ``API_LOGIN_TOKEN_HOURS``."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenLoginThrottle,)

    @extend_schema(
        request=LoginInputSerializer,
        responses={
            200: LoginTokenSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many attempts: see Retry-After."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Django's request, not DRF's wrapper: django-axes marks a lockout on it,
        # and its middleware answers 429 from that mark.
        user = authenticate(
            request=request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if not isinstance(user, User) or not user.is_active:
            raise ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
        hours = int(settings.API_LOGIN_TOKEN_HOURS)
        with transaction.atomic():
            token, secret = api_token_create(
                user=user,
                name=LOGIN_TOKEN_NAME,
                scope=ApiTokenScope.WRITE,
                expires_at=timezone.now() + timedelta(hours=hours),
                origin=RequestOrigin.of(request),
            )
            # As a page login does: the audit log's LOGIN, last_login, and
            # django-axes forgetting this username's failures.
            user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(LoginTokenSerializer({"token": secret, "expires_at": token.expiry}).data)
