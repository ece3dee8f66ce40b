"""REST views for portfolios, scoped by entitlements (``analytics.selectors.entitlements``)."""

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import portfolios as selectors
from analytics.selectors.entitlements import portfolio_get_for_user, portfolio_list_visible_to


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


class PortfolioHoldingsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", dt.date, description="Close of this date (default: latest)")
        ],
        responses=HoldingsOutputSerializer,
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        params = AsOfInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        view = selectors.portfolio_holdings(
            portfolio=portfolio, as_of=params.validated_data.get("as_of")
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


class PortfolioValuesApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("start", dt.date), OpenApiParameter("end", dt.date)],
        responses=ValuePointSerializer(many=True),
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
        params = RangeInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        points = selectors.portfolio_value_series(portfolio=portfolio, **params.validated_data)
        return Response(ValuePointSerializer(points, many=True).data)
