"""REST views for portfolios, scoped by entitlements (``analytics.selectors.entitlements``)."""

import datetime as dt

from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import portfolios as selectors
from analytics.selectors.entitlements import portfolio_get_for_user, portfolio_list_visible_to
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
from portal.origins import RequestOrigin
from portal.services import api_read_record


class PortfolioOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    base_currency = serializers.CharField()
    benchmark = serializers.CharField(source="benchmark.code", allow_null=True, default=None)
    inception_date = serializers.DateField()
    owner = serializers.CharField(source="owner.username")
    strategy = serializers.CharField()
    data_version = serializers.IntegerField()


class PortfolioListApi(ListAPIView):
    """Portfolios the authenticated user is entitled to."""

    serializer_class = PortfolioOutputSerializer

    def get_queryset(self):
        return (
            portfolio_list_visible_to(user=self.request.user)
            .select_related("benchmark", "owner")
            .order_by("code")
        )


class PortfolioDetailApi(APIView):
    @extend_schema(responses=PortfolioOutputSerializer)
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        return Response(PortfolioOutputSerializer(portfolio).data)


class HoldingOutputSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    name = serializers.CharField()
    sector = serializers.CharField()
    country = serializers.CharField()
    asset_class = serializers.CharField()
    currency = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
    price = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    market_value_local = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    market_value_base = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    weight = serializers.FloatField(allow_null=True)


class HoldingsOutputSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    net_assets_base = serializers.DecimalField(max_digits=24, decimal_places=2)
    missing_base_values = serializers.IntegerField()
    holdings = HoldingOutputSerializer(many=True)


class AsOfInputSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)


HOLDING_COLUMNS = (
    Column("as_of", "As of", "date"),
    Column("identifier", "Identifier"),
    Column("name", "Name"),
    Column("sector", "Sector"),
    Column("country", "Country"),
    Column("asset_class", "Asset class"),
    Column("currency", "Currency"),
    Column("quantity", "Quantity", "number"),
    Column("price", "Price", "number"),
    Column("market_value_local", "Market value (local)", "number"),
    Column("market_value_base", "Market value (base)", "number"),
    Column("weight", "Weight", "number"),
)


class PortfolioHoldingsApi(TabularApiMixin, APIView):
    """The portfolio's holdings at a close; as a file (``format`` csv, xlsx,
    parquet) one row per holding with its ``as_of`` date."""

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", dt.date, description="Close of this date (default: latest)"),
            FORMAT_PARAMETER,
        ],
        responses=tabular_responses(HoldingsOutputSerializer),
    )
    def get(self, request: AuthenticatedRequest, portfolio_id: int) -> HttpResponseBase:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        params = AsOfInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        view = selectors.portfolio_holdings(
            portfolio=portfolio, as_of=params.validated_data.get("as_of")
        )
        if wants_file(request):
            return tabular_file_response(
                request=request,
                table=Table(
                    columns=HOLDING_COLUMNS,
                    rows=[{**vars(holding), "as_of": view.as_of} for holding in view.holdings],
                    sheet="Holdings",
                ),
                data="holdings",
                file_stem=f"{portfolio.code}-holdings-{view.as_of or 'none'}",
                target=portfolio,
                details={"as_of": view.as_of.isoformat() if view.as_of else None},
            )
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data="holdings",
            origin=RequestOrigin.of(request),
            details={"as_of": view.as_of.isoformat() if view.as_of else None},
        )
        return Response(HoldingsOutputSerializer(view).data)


class ValuePointSerializer(serializers.Serializer):
    date = serializers.DateField()
    net_assets_base = serializers.DecimalField(max_digits=24, decimal_places=2)
    holdings = serializers.IntegerField()
    missing_base_values = serializers.IntegerField()


class RangeInputSerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": "end must not be before start"})
        return attrs


VALUE_COLUMNS = (
    Column("date", "Date", "date"),
    Column("net_assets_base", "Net assets (base)", "number"),
    Column("holdings", "Holdings", "integer"),
    Column("missing_base_values", "Missing base values", "integer"),
)


class PortfolioValuesApi(TabularApiMixin, APIView):
    """Net assets at each date with positions; as a file one row per date."""

    @extend_schema(
        parameters=[
            OpenApiParameter("start", dt.date),
            OpenApiParameter("end", dt.date),
            FORMAT_PARAMETER,
        ],
        responses=tabular_responses(ValuePointSerializer(many=True)),
    )
    def get(self, request: AuthenticatedRequest, portfolio_id: int) -> HttpResponseBase:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        params = RangeInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        points = selectors.portfolio_value_series(portfolio=portfolio, **params.validated_data)
        if wants_file(request):
            return tabular_file_response(
                request=request,
                table=Table(columns=VALUE_COLUMNS, rows=points, sheet="Values"),
                data="values",
                file_stem=f"{portfolio.code}-values",
                target=portfolio,
                details={key: day.isoformat() for key, day in params.validated_data.items()},
            )
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data="values",
            origin=RequestOrigin.of(request),
            details={key: day.isoformat() for key, day in params.validated_data.items()},
        )
        return Response(ValuePointSerializer(points, many=True).data)
