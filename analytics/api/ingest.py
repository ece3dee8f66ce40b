"""REST endpoints for getting data in and seeing how good it is.

* ``POST /api/imports/``: upload a CSV/XLSX/JSON file of one kind (multipart:
  ``kind``, ``file``, optional ``source``, ``dry_run``, ``skip_invalid``). Files up
  to ``INGEST_INLINE_MAX_BYTES`` (for a workbook, also its parts' declared
  uncompressed size) are imported in the request: 201 committed, 200 dry run, 400
  rejected with every error (row, field, message). Larger files are kept and
  imported by a Celery task: 202 with the run to poll. Before any of it is read,
  a file over ``INGEST_UPLOAD_MAX_BYTES`` gets 413, and one whose name, content
  type or first bytes are not CSV, XLSX or JSON gets 400 naming ``file``
  (``analytics.ingest.uploads``).
* ``GET /api/imports/``, ``GET /api/imports/{id}/``: the caller's import runs
  (administrators see all); ``GET /api/imports/{id}/report/``: the CSV of rejected rows.
* ``POST /api/push/trades/``, ``POST /api/push/prices/``: a JSON batch
  ``{"source": "oms", "rows": [...], "skip_invalid": false}``. Send an
  ``Idempotency-Key`` header: a retry with the same key and body gets the first
  answer again (header ``Idempotent-Replayed: true``) and changes nothing; the
  same key with another body is refused with 422, and 409 with ``Retry-After``
  (seconds) while the first request still runs. A first request whose process
  died is taken over by the retry that comes after its lease ran out
  (``analytics.services.imports.push``).
* ``GET /api/portfolios/{id}/data-quality/``: data as of, completeness and open
  findings of one portfolio; ``GET /api/data-quality/findings/``: open findings
  of every portfolio the caller may see (filters ``portfolio``, ``kind``,
  ``severity``, ``include_resolved``).

Every portfolio is reached through ``analytics.selectors.entitlements`` (missing and forbidden
are both 404); importing into a portfolio needs manage access, importing market
data the model's ``add`` permission. An upload or push that could import nothing
for lack of permission is refused with 403 before any import run is recorded (the
rules are in ``analytics.services.imports.authorisation``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as ImportRefused
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.ingest.kinds import SPECS
from analytics.ingest.uploads import ZIP_MAGIC, UploadRefused, too_large_message, upload_check
from analytics.models import DataKind, FindingKind, ImportRun, ImportStatus, Portfolio, Severity
from analytics.selectors import ingest as ingest_selectors
from analytics.selectors.entitlements import portfolio_get_for_user, portfolio_list_visible_to
from analytics.services.imports.authorisation import import_authorise
from analytics.services.imports.push import (
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyKeyInvalid,
    PushAnswer,
    push_batch,
)
from analytics.services.imports.upload import import_upload
from portal.api_tabular import (
    FORMAT_PARAMETER,
    Column,
    Table,
    TabularApiMixin,
    tabular_file_response,
    tabular_responses,
    wants_file,
)
from portal.authenticated import AuthenticatedRequest
from portal.exports import download_response_audited
from portal.origins import RequestOrigin
from portal.services import api_read_record

RUN_HTTP_STATUS: dict[str, int] = {
    ImportStatus.COMMITTED: status.HTTP_201_CREATED,
    ImportStatus.PARTIAL: status.HTTP_201_CREATED,
    ImportStatus.DRY_RUN: status.HTTP_200_OK,
    ImportStatus.REJECTED: status.HTTP_400_BAD_REQUEST,
    ImportStatus.FAILED: status.HTTP_500_INTERNAL_SERVER_ERROR,
    ImportStatus.PENDING: status.HTTP_202_ACCEPTED,
    ImportStatus.RUNNING: status.HTTP_202_ACCEPTED,
}


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row as the user numbers it (header = row 1)")
    field = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class ImportRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    origin = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.source
    status = serializers.CharField()
    message = serializers.CharField()
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    dry_run = serializers.BooleanField()
    skip_invalid = serializers.BooleanField()
    rows_total = serializers.IntegerField()
    rows_created = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_unchanged = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)  # type: ignore[assignment]  # named like .errors
    report_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_report_url(self, run: ImportRun) -> str | None:
        if not run.report:
            return None
        return f"/api/imports/{run.pk}/report/"


class RefusedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why the import was refused (403)")


def _run_response(run: ImportRun, *, http_status: int | None = None) -> Response:
    return Response(
        ImportRunOutputSerializer(run).data,
        status=http_status or RUN_HTTP_STATUS.get(run.status, 200),
    )


class ImportListCreateApi(APIView):
    parser_classes = (MultiPartParser, FormParser)

    class ImportUploadInputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=sorted(SPECS))
        file = serializers.FileField()
        source = serializers.CharField(  # type: ignore[assignment]  # named like Field.source
            max_length=64, required=False, default="file"
        )
        format = serializers.ChoiceField(choices=["csv", "xlsx", "json"], required=False)
        dry_run = serializers.BooleanField(required=False, default=False)
        skip_invalid = serializers.BooleanField(required=False, default=False)

    InputSerializer = ImportUploadInputSerializer

    @extend_schema(responses=ImportRunOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        runs = ingest_selectors.import_runs_visible_to(user=request.user).order_by("-id")[:100]
        return Response(ImportRunOutputSerializer(runs, many=True).data)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            201: ImportRunOutputSerializer,
            200: ImportRunOutputSerializer,
            202: ImportRunOutputSerializer,
            400: ImportRunOutputSerializer,
            403: RefusedSerializer,
            413: RefusedSerializer,
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        # A body plainly over the cap is refused before it is read.
        declared_length = _content_length(request)
        if declared_length > settings.INGEST_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            return _too_large(declared_length)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        upload = data["file"]
        file_format = _upload_format(upload, declared_format=data.get("format"))
        try:
            run = import_upload(
                kind=data["kind"],
                upload=upload,
                file_format=file_format,
                source=data["source"],
                actor=request.user,
                dry_run=data["dry_run"],
                skip_invalid=data["skip_invalid"],
                request_origin=RequestOrigin.of(request),
            )
        except ImportRefused as error:
            raise PermissionDenied(str(error)) from None
        return _run_response(run)


# Room for the other form fields and the multipart boundaries around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def _content_length(request: AuthenticatedRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(size: int) -> Response:
    limit = settings.INGEST_UPLOAD_MAX_BYTES
    return Response(
        {
            "detail": too_large_message(size, limit),
            "limit_bytes": limit,
        },
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _upload_format(upload: UploadedFile, *, declared_format: str | None) -> str:
    """The upload's format after ``upload_check`` (size, name, content type, first
    bytes); a refusal is a 400 naming the ``file`` field, or a 413."""
    head = upload.read(len(ZIP_MAGIC))
    upload.seek(0)
    try:
        return upload_check(
            name=upload.name or "",
            content_type=upload.content_type or "",
            size=upload.size or 0,
            head=head,
            declared_format=declared_format,
            max_bytes=settings.INGEST_UPLOAD_MAX_BYTES,
        )
    except UploadRefused as refusal:
        if refusal.status == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
            raise UploadTooLarge(str(refusal)) from None
        raise ValidationError({"file": [str(refusal)]}) from None


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


class ImportDetailApi(APIView):
    @extend_schema(responses=ImportRunOutputSerializer)
    def get(self, request: AuthenticatedRequest, run_id: int) -> Response:
        run = ingest_selectors.import_run_get_for_user(user=request.user, run_id=run_id)
        return Response(ImportRunOutputSerializer(run).data)


class ImportReportApi(APIView):
    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request: AuthenticatedRequest, run_id: int) -> HttpResponseBase:
        run = ingest_selectors.import_run_get_for_user(user=request.user, run_id=run_id)
        if not run.report:
            raise Http404("This import rejected no rows.")
        path = Path(settings.MEDIA_ROOT) / run.report
        if not path.is_file():
            raise Http404("The report is no longer kept.")
        return download_response_audited(
            content=path,
            file_name=path.name,
            content_type="text/csv",
            file_format="csv",
            actor=request.user,
            origin=RequestOrigin.of(request),
            target=run,
        )


class _PushApi(APIView):
    """A JSON batch of one kind, made safe to retry by ``Idempotency-Key``."""

    kind: str
    parser_classes = (JSONParser,)

    class PushBatchInputSerializer(serializers.Serializer):
        source = serializers.CharField(  # type: ignore[assignment]  # named like Field.source
            max_length=64, required=False, default="api"
        )
        skip_invalid = serializers.BooleanField(required=False, default=False)
        rows = serializers.ListField(child=serializers.DictField(), allow_empty=False)

    InputSerializer = PushBatchInputSerializer

    def post(self, request: AuthenticatedRequest) -> Response:
        data = self._batch(request.body)
        try:
            # Before the Idempotency-Key is claimed: a refusal leaves nothing behind.
            import_authorise(spec=SPECS[self.kind], actor=request.user, rows=data["rows"])
        except ImportRefused as error:
            raise PermissionDenied(str(error)) from None
        try:
            outcome = push_batch(
                kind=self.kind,
                user=request.user,
                body=request.body,
                rows=data["rows"],
                source=data["source"],
                skip_invalid=data["skip_invalid"],
                idempotency_key=request.headers.get("Idempotency-Key", ""),
                answer=_push_answer,
                request_origin=RequestOrigin.of(request),
            )
        except IdempotencyKeyInvalid as error:
            raise ValidationError({"Idempotency-Key": str(error)}) from None
        except IdempotencyConflict:
            return Response(
                {"detail": "This Idempotency-Key was used for a different batch."},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        except IdempotencyInProgress as running:
            return Response(
                {"detail": "A request with this Idempotency-Key is still running."},
                status=status.HTTP_409_CONFLICT,
                headers={"Retry-After": str(running.retry_after_seconds)},
            )
        response = Response(outcome.answer.body, status=outcome.answer.code)
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _batch(self, body: bytes) -> dict[str, Any]:
        """The validated batch. Numbers are parsed as decimals, never through
        binary floats (DRF's JSON parser would read them as floats)."""
        try:
            payload = json.loads(body or b"null", parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as error:
            raise ValidationError({"detail": f"the body is not valid JSON: {error}"}) from None
        params = self.InputSerializer(data=payload)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)


def _push_answer(run: ImportRun) -> PushAnswer:
    return PushAnswer(
        code=RUN_HTTP_STATUS.get(run.status, status.HTTP_200_OK),
        body=dict(ImportRunOutputSerializer(run).data),
    )


class PushTradesApi(_PushApi):
    kind = DataKind.TRADES

    @extend_schema(
        request=_PushApi.InputSerializer,
        responses={
            201: ImportRunOutputSerializer,
            400: ImportRunOutputSerializer,
            403: RefusedSerializer,
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        return super().post(request)


class PushPricesApi(_PushApi):
    kind = DataKind.PRICES

    @extend_schema(
        request=_PushApi.InputSerializer,
        responses={
            201: ImportRunOutputSerializer,
            400: ImportRunOutputSerializer,
            403: RefusedSerializer,
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        return super().post(request)


# --- data quality -------------------------------------------------------------


class FindingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    portfolio = serializers.CharField(source="portfolio.code", allow_null=True, default=None)
    instrument = serializers.CharField(
        source="instrument.identifier", allow_null=True, default=None
    )
    date = serializers.DateField()
    message = serializers.CharField()
    details = serializers.JSONField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class DataStatusOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    completeness = serializers.FloatField()
    data_as_of = serializers.DateField(allow_null=True)
    holdings = serializers.IntegerField()
    priced = serializers.IntegerField()
    valued = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    loaded_at = serializers.DateTimeField(allow_null=True)


class DataQualityOutputSerializer(serializers.Serializer):
    portfolio = serializers.CharField(source="portfolio.code")
    as_of = serializers.DateField(allow_null=True)
    data_as_of = serializers.DateField(allow_null=True)
    completeness = serializers.FloatField(allow_null=True)
    loaded_at = serializers.DateTimeField(allow_null=True)
    scanned_at = serializers.DateTimeField(allow_null=True)
    findings_by_severity = serializers.DictField(child=serializers.IntegerField())
    incomplete_days = DataStatusOutputSerializer(many=True)
    findings = FindingOutputSerializer(many=True)


class PortfolioDataQualityApi(APIView):
    class InputSerializer(serializers.Serializer):
        as_of = serializers.DateField(required=False)

    @extend_schema(
        parameters=[OpenApiParameter("as_of", dt.date, description="Default: latest")],
        responses=DataQualityOutputSerializer,
    )
    def get(self, request: AuthenticatedRequest, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        summary = ingest_selectors.portfolio_data_quality(
            portfolio=portfolio, as_of=params.validated_data.get("as_of")
        )
        as_of = params.validated_data.get("as_of")
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data="data_quality",
            origin=RequestOrigin.of(request),
            details={"as_of": as_of.isoformat()} if as_of else None,
        )
        return Response(DataQualityOutputSerializer(summary).data)


FINDING_COLUMNS = (
    Column("id", "Id", "integer"),
    Column("kind", "Kind"),
    Column("severity", "Severity"),
    Column("portfolio", "Portfolio", source="portfolio.code"),
    Column("instrument", "Instrument", source="instrument.identifier"),
    Column("date", "Date", "date"),
    Column("message", "Message"),
    Column("details", "Details", "json"),
    Column("first_seen_at", "First seen", "datetime"),
    Column("last_seen_at", "Last seen", "datetime"),
    Column("resolved_at", "Resolved", "datetime"),
)


class FindingListApi(TabularApiMixin, APIView):
    """Findings of the portfolios the caller may see: JSON (the first 1,000), or
    with ``format`` csv, xlsx or parquet a file of every finding selected."""

    class InputSerializer(serializers.Serializer):
        portfolio = serializers.IntegerField(required=False)
        kind = serializers.ChoiceField(choices=FindingKind.choices, required=False)
        severity = serializers.ChoiceField(choices=Severity.choices, required=False)
        include_resolved = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        parameters=[InputSerializer, FORMAT_PARAMETER],
        responses=tabular_responses(FindingOutputSerializer(many=True)),
    )
    def get(self, request: AuthenticatedRequest) -> HttpResponseBase:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        portfolios: QuerySet[Portfolio] | list[Portfolio] = portfolio_list_visible_to(
            user=request.user
        )
        if "portfolio" in data:
            portfolios = [portfolio_get_for_user(user=request.user, portfolio_id=data["portfolio"])]
        findings = ingest_selectors.findings_for_portfolios(
            portfolios=portfolios,
            kind=data.get("kind"),
            severity=data.get("severity"),
            include_resolved=data["include_resolved"],
        )
        if wants_file(request):
            return tabular_file_response(
                request=request,
                table=Table(
                    columns=FINDING_COLUMNS,
                    rows=findings.select_related("portfolio", "instrument"),
                    sheet="Findings",
                ),
                data="data_quality.findings",
                file_stem="data-quality-findings",
                portfolio=data.get("portfolio"),
                details={key: str(value) for key, value in data.items()},
            )
        rows = FindingOutputSerializer(findings[:1000], many=True).data
        api_read_record(
            actor=request.user,
            portfolio=data.get("portfolio"),
            data="data_quality.findings",
            origin=RequestOrigin.of(request),
            details={**{key: str(value) for key, value in data.items()}, "rows": len(rows)},
        )
        return Response(rows)
