"""REST API of reports: templates (CRUD, versions, sharing, cloning), the block
catalog, the live preview of a draft, and runs with their files.

Every read goes through ``reports.selectors`` (scoped to what the user may see:
a template or run they may not see is a 404, like one that does not exist; a
level they lack on one they may see, such as editing a template shared to view,
is a 403). Writes call ``reports.services``; a ``ReportInvalid`` becomes a 400
with the field at fault (parameters nested under ``parameters``). A run request
answers 202 with the queued run: the work happens in the ``reports`` queue and
``GET /api/reports/runs/{id}/`` shows its progress.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db.models import OuterRef, Subquery
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.authenticated import AuthenticatedRequest
from portal.models import Team, User
from portal.origins import RequestOrigin
from reports import selectors
from reports.api import serializers as io
from reports.definition import PARAMETER_DEFAULTS, definition_clean
from reports.document import Document
from reports.errors import ReportInvalid, ReportNotFound
from reports.file_exports import (
    ExportRefused,
    report_file_download,
    report_run_zip_download,
    watermark_asked,
)
from reports.models import ReportTemplate, ReportTemplateVersion
from reports.renderers.base import CONTENT_TYPES
from reports.renderers.html import document_html
from reports.services import runs as run_services
from reports.services import shares as share_services
from reports.services import templates as template_services
from reports.services.compose import document_build

WATERMARK_PARAMETER = OpenApiParameter(
    "watermark",
    OpenApiTypes.BOOL,
    description="Stamp a PDF with your name and the time on every page.",
)


def raise_invalid(error: ReportInvalid, *, nested: bool = True) -> NoReturn:
    """A service's ``ReportInvalid`` as a 400 naming its field. With ``nested`` (a
    definition's request) a parameter's field is nested under ``parameters``, as
    the request sent it; a run request sends its overrides at the top level."""
    field = error.field or "non_field_errors"
    if nested and field in PARAMETER_DEFAULTS:
        raise ApiValidationError({"parameters": {field: [error.message]}})
    raise ApiValidationError({field: [error.message]})


def templates_annotated(templates: list[ReportTemplate], *, user: User) -> list[ReportTemplate]:
    """``templates`` with ``latest`` (the newest version, read in one query) and
    ``access_level`` (the user's level, from the selector) set for the serializer."""
    newest = ReportTemplateVersion.objects.filter(template=OuterRef("template")).order_by("-number")
    latest = {
        version.template_id: version
        for version in ReportTemplateVersion.objects.filter(
            template__in=[t.id for t in templates],
            number=Subquery(newest.values("number")[:1]),
        )
    }
    for template in templates:
        template.latest = latest.get(template.id)  # type: ignore[attr-defined]
        template.access_level = selectors.report_template_level(  # type: ignore[attr-defined]
            user=user, template=template
        )
    return templates


def version_latest(template: ReportTemplate) -> ReportTemplateVersion:
    """The template's newest version (every template is created with version 1)."""
    version = template.version_latest()
    if version is None:
        raise ReportNotFound("This report template has no version.")
    return version


def template_data(template: ReportTemplate, *, user: User) -> dict[str, Any]:
    template.refresh_from_db()
    return dict(
        io.ReportTemplateOutputSerializer(templates_annotated([template], user=user)[0]).data
    )


class TemplateListApi(ListAPIView):
    """Templates you may see: your own, those shared with you (directly or through
    a team) and the built-in ones. ``POST`` creates one of yours (version 1)."""

    serializer_class = io.ReportTemplateOutputSerializer
    request: AuthenticatedRequest

    def get_queryset(self):
        return (
            selectors.report_templates_visible_to(user=self.request.user)
            .select_related("owner")
            .order_by("name", "id")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        templates = templates_annotated(list(page or []), user=self.request.user)
        return self.get_paginated_response(self.get_serializer(templates, many=True).data)

    @extend_schema(
        request=io.ReportTemplateCreateInputSerializer,
        responses={201: io.ReportTemplateOutputSerializer},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = io.ReportTemplateCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            template = template_services.report_template_create(
                user=request.user,
                name=data["name"],
                description=data["description"],
                blocks=data["blocks"],
                parameters=data["parameters"],
                layout=data["layout"],
                slug=data.get("slug"),
                origin=RequestOrigin.of(request),
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(template_data(template, user=request.user), status=status.HTTP_201_CREATED)


class TemplateDetailApi(APIView):
    """One template by id or slug. ``PUT`` replaces its definition, ``PATCH``
    changes the fields given; either stores a new version (edit access).
    ``DELETE`` is for its owner; its runs and files are kept."""

    @extend_schema(responses=io.ReportTemplateOutputSerializer)
    def get(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(user=request.user, template=template)
        return Response(template_data(found, user=request.user))

    def _update(self, request: AuthenticatedRequest, template: str, *, partial: bool) -> Response:
        found = selectors.report_template_get_for_user(
            user=request.user, template=template, level="edit"
        )
        payload = io.ReportDefinitionInputSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        fields = {
            name: value
            for name, value in payload.validated_data.items()
            if name in ("name", "description", "blocks", "parameters", "layout")
        }
        if partial:
            # A partial parameters or layout object changes only the keys it names.
            latest = version_latest(found)
            for name in ("parameters", "layout"):
                if isinstance(fields.get(name), dict):
                    fields[name] = {**getattr(latest, name), **fields[name]}
        try:
            template_services.report_template_update(
                user=request.user, template=found, origin=RequestOrigin.of(request), **fields
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(template_data(found, user=request.user))

    @extend_schema(
        request=io.ReportDefinitionInputSerializer, responses=io.ReportTemplateOutputSerializer
    )
    def put(self, request: AuthenticatedRequest, template: str) -> Response:
        return self._update(request, template, partial=False)

    @extend_schema(
        request=io.ReportDefinitionInputSerializer, responses=io.ReportTemplateOutputSerializer
    )
    def patch(self, request: AuthenticatedRequest, template: str) -> Response:
        return self._update(request, template, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(
            user=request.user, template=template, level="owner"
        )
        template_services.report_template_delete(
            user=request.user, template=found, origin=RequestOrigin.of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplateVersionsApi(APIView):
    """Every version of a template, newest first (what each run rendered)."""

    @extend_schema(responses=io.ReportVersionOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(user=request.user, template=template)
        versions = selectors.report_template_versions(template=found)
        return Response(io.ReportVersionOutputSerializer(versions, many=True).data)


class TemplateCloneApi(APIView):
    """A copy of a template you may see, owned by you (a built-in one included)."""

    class ReportCloneInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)

    @extend_schema(
        request=ReportCloneInputSerializer, responses={201: io.ReportTemplateOutputSerializer}
    )
    def post(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(user=request.user, template=template)
        payload = self.ReportCloneInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            copy = template_services.report_template_clone(
                user=request.user,
                template=found,
                name=payload.validated_data.get("name"),
                origin=RequestOrigin.of(request),
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(template_data(copy, user=request.user), status=status.HTTP_201_CREATED)


def _recipient(data: dict[str, Any]) -> dict[str, Any]:
    """The share's ``user`` (by username) or ``team`` (by id); 400 if unknown."""
    if "user" in data:
        user = User.objects.filter(username=data["user"], is_active=True).first()
        if user is None:
            raise ApiValidationError({"user": ["No such user."]})
        return {"user": user}
    team = Team.objects.filter(id=data["team"]).first()
    if team is None:
        raise ApiValidationError({"team": ["No such team."]})
    return {"team": team}


class TemplateShareApi(APIView):
    """The template's shares (its owner only). ``POST`` shares it with a user or a
    team at a level, or changes that share's level; every change is audited."""

    @extend_schema(responses=io.ReportShareOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(
            user=request.user, template=template, level="owner"
        )
        shares = selectors.report_template_shares(template=found)
        return Response(io.ReportShareOutputSerializer(shares, many=True).data)

    @extend_schema(
        request=io.ReportShareInputSerializer, responses={201: io.ReportShareOutputSerializer}
    )
    def post(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(
            user=request.user, template=template, level="owner"
        )
        payload = io.ReportShareInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            share = share_services.report_template_share(
                actor=request.user,
                template=found,
                level=payload.validated_data["level"],
                origin=RequestOrigin.of(request),
                **_recipient(payload.validated_data),
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(io.ReportShareOutputSerializer(share).data, status=status.HTTP_201_CREATED)


class TemplateUnshareApi(APIView):
    """Stop sharing the template with a user or a team (audited)."""

    @extend_schema(
        request=io.ReportUnshareInputSerializer,
        responses={204: None, 404: OpenApiResponse(description="No such share.")},
    )
    def post(self, request: AuthenticatedRequest, template: str) -> Response:
        found = selectors.report_template_get_for_user(
            user=request.user, template=template, level="owner"
        )
        payload = io.ReportUnshareInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        recipient = _recipient(payload.validated_data)
        share = selectors.report_template_shares(template=found).filter(**recipient).first()
        if share is None:
            return Response({"detail": "Not shared with them."}, status=status.HTTP_404_NOT_FOUND)
        share_services.report_template_unshare(
            actor=request.user, share=share, origin=RequestOrigin.of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockCatalogApi(APIView):
    """The blocks a template may use, in the builder's order, with their options."""

    @extend_schema(responses=io.ReportBlockOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(io.ReportBlockOutputSerializer(io.catalog_data(), many=True).data)


class ReportPreviewOutputSerializer(serializers.Serializer):
    html = serializers.CharField(
        help_text=(
            "The document's HTML fragment (an <article>, screen mode): the page "
            "links css/report.css and the chart scripts around it."
        )
    )
    as_of = serializers.DateField(allow_null=True, help_text="Oldest as-of date of the data.")
    portfolios = serializers.ListField(child=serializers.CharField(), help_text="Codes shown.")
    incomplete = serializers.ListField(child=serializers.CharField(), help_text="Data gaps.")


class PreviewApi(APIView):
    """The HTML of a draft definition rendered on your portfolios' stored data,
    exactly as a run would compose it (nothing is saved or queued). A draft
    without a name is previewed as “Untitled report”."""

    @extend_schema(request=io.ReportPreviewInputSerializer, responses=ReportPreviewOutputSerializer)
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = io.ReportPreviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            document = preview_document(
                user=request.user,
                name=data["name"] or "Untitled report",
                description=data["description"],
                blocks=data["blocks"],
                parameters=data["parameters"],
                layout=data["layout"],
            )
        except ReportInvalid as error:
            raise_invalid(error)
        return Response(
            ReportPreviewOutputSerializer(
                {
                    "html": document_html(document, mode="screen"),
                    "as_of": document.as_of,
                    "portfolios": [portfolio.code for portfolio in document.portfolios],
                    "incomplete": document.incomplete,
                }
            ).data
        )


def preview_document(
    *,
    user: User,
    name: str,
    description: str,
    blocks: Any,
    parameters: dict[str, Any],
    layout: dict[str, Any],
) -> Document:
    """The document of an unsaved definition as ``user`` would get it from a run
    (checked by the one validator, composed by the one composer)."""
    definition = definition_clean(
        name=name, description=description, blocks=blocks, parameters=parameters, layout=layout
    )
    return document_build(version_or_definition=definition, user=user)


class RunListApi(ListAPIView):
    """Runs you requested or that ran as you, newest first. ``POST`` requests a
    run of a template (by slug or id) or of an unsaved definition: 202 with the
    queued run, whose progress ``GET /api/reports/runs/{id}/`` shows. Send an
    ``Idempotency-Key`` header to make a retried request find the same run. A
    refused request is a 400 naming the field at fault at the top level
    (``portfolios``, ``period``, ``formats``, ``blocks``...)."""

    serializer_class = io.ReportRunOutputSerializer
    request: AuthenticatedRequest

    def get_queryset(self):
        return (
            selectors.report_runs_visible_to(user=self.request.user)
            .prefetch_related("files")
            .order_by("-requested_at", "-id")
        )

    @extend_schema(
        request=io.ReportRunRequestInputSerializer, responses={202: io.ReportRunOutputSerializer}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = io.ReportRunRequestInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        template = None
        if "template" in data:
            template = selectors.report_template_get_for_user(
                user=request.user, template=data["template"], level="run"
            )
        try:
            run = run_services.report_run_request(
                user=request.user,
                template=template,
                definition=data.get("definition"),
                parameters=payload.overrides(),
                formats=data["formats"],
                idempotency_key=request.headers.get("Idempotency-Key") or None,
                origin=RequestOrigin.of(request),
            )
        except ReportInvalid as error:
            raise_invalid(error, nested=False)
        return Response(
            io.ReportRunOutputSerializer(run, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class RunDetailApi(APIView):
    """A run: its state, progress (block by block, then format by format), the
    data it used, its data-quality summary, warnings, error and files."""

    @extend_schema(responses=io.ReportRunOutputSerializer)
    def get(self, request: AuthenticatedRequest, run_id: int) -> Response:
        run = selectors.report_run_get_for_user(user=request.user, run_id=run_id)
        return Response(io.ReportRunOutputSerializer(run, context={"request": request}).data)


class RunFileApi(APIView):
    """Download one file of a run. Every download is audited (user, format, size,
    SHA-256, rows where known) and the response carries the SHA-256 of the bytes
    sent in ``X-Content-SHA256`` (hex) and ``Repr-Digest`` (RFC 9530). A PDF is
    stamped with your name and the time when ``watermark=1`` (or the portal's
    ``REPORTS_PDF_WATERMARK`` setting) asks. A format or report your export
    policy forbids is a 403 naming the rule (and audited as refused)."""

    @extend_schema(
        parameters=[WATERMARK_PARAMETER],
        responses={
            # The file's own content type (a run's csv is a zip when it has several tables).
            **{
                (200, content_type.split(";")[0]): OpenApiResponse(
                    response=OpenApiTypes.BINARY, description="The file, as an attachment."
                )
                for content_type in CONTENT_TYPES.values()
            },
            403: OpenApiResponse(description="The export policy forbids this file."),
        },
    )
    def get(self, request: AuthenticatedRequest, run_id: int, name: str) -> HttpResponseBase:
        file = selectors.report_file_get_for_user(user=request.user, run_id=run_id, name=name)
        try:
            return report_file_download(
                file=file,
                user=request.user,
                origin=RequestOrigin.of(request),
                watermark=watermark_asked(request.query_params),
            )
        except ExportRefused as refused:
            raise ApiPermissionDenied(str(refused)) from refused


class RunFilesZipApi(APIView):
    """Every file of a run you may export, as one ZIP with a ``manifest.json``
    (each file's name, format, size, SHA-256 and rows where known; the run, its
    template, portfolios, period, when it was generated and who downloaded it).
    Audited once with the ZIP's SHA-256, which ``X-Content-SHA256`` carries.
    Files your export policy forbids are left out and listed under ``withheld``;
    a 403 when it forbids them all."""

    @extend_schema(
        parameters=[WATERMARK_PARAMETER],
        responses={
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The ZIP, as an attachment."
            ),
            403: OpenApiResponse(description="The export policy forbids every file."),
        },
    )
    def get(self, request: AuthenticatedRequest, run_id: int) -> HttpResponseBase:
        run = selectors.report_run_get_for_user(user=request.user, run_id=run_id)
        try:
            return report_run_zip_download(
                run=run,
                user=request.user,
                origin=RequestOrigin.of(request),
                watermark=watermark_asked(request.query_params),
            )
        except ExportRefused as refused:
            raise ApiPermissionDenied(str(refused)) from refused
