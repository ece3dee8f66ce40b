"""REST views over stored analytics snapshots and risk limits, scoped by entitlements.

Reads return stored numbers only; ``refresh`` queues a recompute. Every response
carries the snapshot's key and freshness (``as_of``, ``data_version``, ``stale``,
``current_status``) so a client can tell old numbers from current ones.
"""

from django.db import transaction
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.section_tables import TABLE_SECTIONS, section_table
from analytics.models import DEFAULT_RISK_WINDOWS, RISK_LIMIT_WINDOWS, RiskLimitMetric, RiskWindow
from analytics.selectors import portfolios as selectors
from analytics.selectors.entitlements import portfolio_get_for_user, user_can_manage_portfolio
from analytics.services import snapshots
from analytics.services.risk_limits import risk_limits_replace
from analytics.services.snapshots.attribution import GROUPINGS
from analytics.services.snapshots.attribution import WINDOWS as ATTRIBUTION_WINDOWS
from analytics.services.snapshots.frames import ATTRIBUTES
from analytics.services.snapshots.performance import WINDOWS
from portal.api_tabular import (
    FORMAT_PARAMETER,
    TabularApiMixin,
    tabular_file_response,
    tabular_responses,
    wants_file,
)
from portal.authenticated import AuthenticatedRequest
from portal.origins import RequestOrigin
from portal.services import api_read_record

SECTIONS = (
    "series",
    "metrics",
    "period_returns",
    "calendar",
    "drawdowns",
    "rolling",
    "var",
    "exposures",
    "attribution",
    "factors",
    "risk_values",
)


class SnapshotMetaSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    data_version = serializers.IntegerField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()
    current_status = serializers.CharField(allow_null=True)
    current_error = serializers.CharField(allow_blank=True)


def _meta(view: selectors.SnapshotView) -> dict:
    snapshot = view.snapshot
    return SnapshotMetaSerializer(
        {
            "as_of": snapshot.as_of if snapshot else None,
            "data_version": snapshot.data_version if snapshot else None,
            "computed_at": snapshot.finished_at if snapshot else None,
            "stale": view.stale,
            "current_status": view.current_status,
            "current_error": view.current_error,
        }
    ).data


class LimitUseSerializer(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    window = serializers.CharField(help_text="The window the figure is measured on (RiskWindow).")
    window_label = serializers.CharField()
    limit = serializers.FloatField()
    warning_level = serializers.FloatField()
    value = serializers.FloatField(allow_null=True)
    utilisation = serializers.FloatField(allow_null=True)
    status = serializers.CharField()


class AnalyticsSummarySerializer(serializers.Serializer):
    snapshot = SnapshotMetaSerializer()
    data = serializers.DictField(  # type: ignore[assignment]  # a field named like Serializer.data
        help_text="Valuations, gaps and conventions of the snapshot."
    )
    risk_limits = LimitUseSerializer(many=True)
    sections = serializers.ListField(child=serializers.CharField())


class PortfolioAnalyticsApi(APIView):
    """The portfolio's snapshot key and freshness, its data coverage and gaps, and
    the utilisation of its risk limits."""

    @extend_schema(responses=AnalyticsSummarySerializer)
    def get(self, request: AuthenticatedRequest, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        view = selectors.portfolio_snapshot(portfolio=portfolio)
        limits = selectors.risk_limit_utilisation(portfolio=portfolio, view=view)
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data="analytics",
            origin=RequestOrigin.of(request),
        )
        return Response(
            {
                "snapshot": _meta(view),
                "data": view.section("data") or {},
                "risk_limits": LimitUseSerializer(limits, many=True).data,
                "sections": list(SECTIONS),
            }
        )


class SectionInputSerializer(serializers.Serializer):
    window = serializers.CharField(required=False)
    by = serializers.CharField(required=False)


def _pick(payload: dict, key: str, value: str | None, allowed, what: str) -> dict:
    """Narrow ``payload[key]`` to one entry when the client asked for it."""
    if value is None:
        return payload
    if value not in allowed:
        raise ValidationError({what: f"must be one of {', '.join(allowed)}; got {value!r}"})
    entries = payload.get(key) or {}
    if value not in entries:
        raise ValidationError({what: f"{value} is not available for this portfolio"})
    return {**payload, key: {value: entries[value]}}


class PortfolioAnalyticsSectionApi(TabularApiMixin, APIView):
    """One section of the portfolio's latest snapshot (conventions in each section's
    docs: fractions, 252 periods a year, VaR as a positive loss).

    ``window`` narrows ``metrics`` (SI, 5Y, 3Y, 1Y, YTD) and ``attribution`` (SI, 3Y,
    1Y); ``by`` narrows ``exposures`` (an instrument attribute) and ``attribution``
    (sector, country, asset_class). The sections that are tables (series,
    drawdowns, rolling, calendar: ``analytics.api.section_tables``) are also
    files with ``format`` csv, xlsx or parquet; another section as a file is a 400."""

    @extend_schema(
        operation_id="portfolios_analytics_section_retrieve",
        parameters=[
            OpenApiParameter("section", str, OpenApiParameter.PATH, enum=list(SECTIONS)),
            OpenApiParameter("window", str, enum=list(WINDOWS)),
            OpenApiParameter("by", str, enum=list(ATTRIBUTES)),
            FORMAT_PARAMETER,
        ],
        responses=tabular_responses(OpenApiTypes.OBJECT),
    )
    def get(
        self, request: AuthenticatedRequest, portfolio_id: int, section: str
    ) -> HttpResponseBase:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        if section not in SECTIONS:
            raise ValidationError({"section": f"must be one of {', '.join(SECTIONS)}"})
        if wants_file(request) and section not in TABLE_SECTIONS:
            raise ValidationError(
                {
                    "format": f"the {section} section is not a table; files are offered "
                    f"for {', '.join(TABLE_SECTIONS)} (or ask for json)"
                }
            )
        params = SectionInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        window, by = params.validated_data.get("window"), params.validated_data.get("by")
        view = selectors.portfolio_snapshot(portfolio=portfolio)
        payload = view.section(section)
        if payload is None:
            return Response(
                {"snapshot": _meta(view), "detail": "No snapshot has been computed yet."},
                status=status.HTTP_404_NOT_FOUND,
            )
        if section == "metrics" and payload.get("windows"):
            payload = _pick(payload, "windows", window, WINDOWS, "window")
        elif section == "exposures" and payload.get("dimensions"):
            payload = _pick(payload, "dimensions", by, ATTRIBUTES, "by")
        elif section == "attribution" and payload.get("available"):
            payload = _pick(payload, "groupings", by, GROUPINGS, "by")
            if window is not None:
                payload["groupings"] = {
                    name: _pick(
                        {"windows": windows}, "windows", window, list(ATTRIBUTION_WINDOWS), "window"
                    )["windows"]
                    for name, windows in payload["groupings"].items()
                }
        if wants_file(request):
            table = section_table(section, payload)
            if table is None:
                reason = payload.get("reason") or "the section is not available"
                raise ValidationError({"format": f"no {section} table to send: {reason}"})
            as_of = view.snapshot.as_of if view.snapshot else None
            return tabular_file_response(
                request=request,
                table=table,
                data=f"analytics.{section}",
                file_stem=f"{portfolio.code}-{section}-{as_of or 'none'}",
                target=portfolio,
                details={
                    "as_of": as_of.isoformat() if as_of else None,
                    "data_version": view.snapshot.data_version if view.snapshot else None,
                },
            )
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data=f"analytics.{section}",
            origin=RequestOrigin.of(request),
            details={key: value for key, value in (("window", window), ("by", by)) if value},
        )
        return Response({"snapshot": _meta(view), section: payload})


class PortfolioAnalyticsRefreshApi(APIView):
    """Queue a recompute of the portfolio's current snapshot key (nothing is queued
    when it is already pending, done, or running under a live worker's lease; a
    running key whose worker stopped is re-sent at once). Queuing work is for the
    portfolio's managers: a viewer gets 403, before anything is queued."""

    @extend_schema(request=None, responses={202: SnapshotMetaSerializer})
    def post(self, request: Request, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        if not user_can_manage_portfolio(user=request.user, portfolio=portfolio):
            raise PermissionDenied("Only the portfolio's managers may queue a recompute.")
        snapshots.snapshot_request(portfolio=portfolio)
        view = selectors.portfolio_snapshot(portfolio=portfolio)
        return Response(_meta(view), status=status.HTTP_202_ACCEPTED)


class RiskLimitInputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=RiskLimitMetric.choices)
    window = serializers.ChoiceField(
        choices=RiskWindow.choices,
        required=False,
        help_text="The returns the figure is measured on; omitted: the metric's default window.",
    )
    limit = serializers.FloatField(min_value=0, help_text="Positive fraction (0.02 = 2 %).")
    warning_level = serializers.FloatField(min_value=0, max_value=1, default=0.9)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, attrs: dict) -> dict:
        allowed = RISK_LIMIT_WINDOWS[attrs["metric"]]
        attrs["window"] = attrs.get("window") or DEFAULT_RISK_WINDOWS[attrs["metric"]]
        if attrs["window"] not in allowed:
            raise serializers.ValidationError(
                {"window": f"{attrs['metric']} is measured on one of: {', '.join(allowed)}"}
            )
        return attrs

    def validate_limit(self, value: float) -> float:
        if value <= 0:
            raise serializers.ValidationError("must be greater than 0")
        return value

    def validate_warning_level(self, value: float) -> float:
        if value <= 0:
            raise serializers.ValidationError("must be greater than 0 (a fraction of the limit)")
        return value


class PortfolioRiskLimitsApi(APIView):
    """The portfolio's risk limits with their current utilisation. ``PUT`` replaces
    the whole set (managers of the portfolio only)."""

    @extend_schema(responses=LimitUseSerializer(many=True))
    def get(self, request: AuthenticatedRequest, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        view = selectors.portfolio_snapshot(portfolio=portfolio)
        limits = selectors.risk_limit_utilisation(portfolio=portfolio, view=view)
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data="risk_limits",
            origin=RequestOrigin.of(request),
        )
        return Response(LimitUseSerializer(limits, many=True).data)

    @extend_schema(
        request=RiskLimitInputSerializer(many=True), responses=LimitUseSerializer(many=True)
    )
    def put(self, request: Request, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        if not user_can_manage_portfolio(user=request.user, portfolio=portfolio):
            raise PermissionDenied("Only the portfolio's managers may change its risk limits.")
        limits = RiskLimitInputSerializer(data=request.data, many=True)
        limits.is_valid(raise_exception=True)
        metrics = [(row["metric"], row["window"]) for row in limits.validated_data]
        if len(set(metrics)) != len(metrics):
            raise ValidationError({"metric": "each metric may appear once per window"})
        with transaction.atomic():
            risk_limits_replace(
                portfolio=portfolio,
                limits=limits.validated_data,
                actor=request.user,
                origin=RequestOrigin.of(request),
            )
        view = selectors.portfolio_snapshot(portfolio=portfolio)
        used = selectors.risk_limit_utilisation(portfolio=portfolio, view=view)
        return Response(LimitUseSerializer(used, many=True).data)
