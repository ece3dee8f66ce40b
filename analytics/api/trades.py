"""``GET /api/portfolios/{id}/trades/``: the portfolio's trades, oldest first (by
trade date, then id), the same rows as the trades page
(``analytics.selectors.records.portfolio_trades``). Filters ``date_from`` and
``date_to`` (trade dates, both included), ``instrument`` (identifier, any case)
and ``side``. JSON is paged with ``limit`` / ``offset``; ``format`` csv, xlsx or
parquet gives every selected trade as a file (``portal.api_tabular``). Prices,
fees and ``gross_value`` (quantity × price, fees excluded) are in the trade's
currency. A portfolio the caller may not see is a 404.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from analytics.models import TradeSide
from analytics.selectors.entitlements import portfolio_get_for_user
from analytics.selectors.records import portfolio_trades
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

MICRO = Decimal("0.000001")


class TradeFilterInputSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="First trade date (included).")
    date_to = serializers.DateField(required=False, help_text="Last trade date (included).")
    instrument = serializers.CharField(
        required=False, max_length=64, help_text="The instrument's identifier (any case)."
    )
    side = serializers.ChoiceField(choices=TradeSide.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_to": "date_to must not be before date_from"})
        return attrs


class TradeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trade_date = serializers.DateField()
    settle_date = serializers.DateField()
    instrument = serializers.CharField(source="instrument.identifier")
    instrument_name = serializers.CharField(source="instrument.name")
    side = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
    price = serializers.DecimalField(max_digits=24, decimal_places=6)
    fees = serializers.DecimalField(max_digits=24, decimal_places=6)
    currency = serializers.CharField()
    gross_value = serializers.DecimalField(max_digits=38, decimal_places=6)
    trader = serializers.CharField(source="trader_name", allow_null=True)
    strategy = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.source
    external_id = serializers.CharField()


TRADE_COLUMNS = (
    Column("id", "Id", "integer"),
    Column("trade_date", "Trade date", "date"),
    Column("settle_date", "Settle date", "date"),
    Column("instrument", "Instrument", source="instrument.identifier"),
    Column("instrument_name", "Instrument name", source="instrument.name"),
    Column("side", "Side"),
    Column("quantity", "Quantity", "number"),
    Column("price", "Price", "number"),
    Column("fees", "Fees", "number"),
    Column("currency", "Currency"),
    # The product's scale depends on the database (12 places on PostgreSQL): 6, as in JSON.
    Column(
        "gross_value",
        "Gross value",
        "number",
        source=lambda trade: trade.gross_value.quantize(MICRO),
    ),
    Column("trader", "Trader", source="trader_name"),
    Column("strategy", "Strategy"),
    Column("source", "Source"),
    Column("external_id", "External id"),
)


class PortfolioTradesApi(TabularApiMixin, ListAPIView):
    """The portfolio's trades, oldest first; JSON paged, or a file of them all."""

    serializer_class = TradeOutputSerializer
    request: AuthenticatedRequest

    @extend_schema(
        parameters=[TradeFilterInputSerializer, FORMAT_PARAMETER],
        responses=tabular_responses(TradeOutputSerializer(many=True)),
    )
    def get(self, request, *args, **kwargs):
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=kwargs["portfolio_id"])
        filters = TradeFilterInputSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        trades = portfolio_trades(
            portfolio=portfolio,
            side=data.get("side", ""),
            instrument=data.get("instrument", ""),
            start=data.get("date_from"),
            end=data.get("date_to"),
        ).order_by("trade_date", "id")
        details = {key: str(value) for key, value in data.items()}
        if wants_file(request):
            return tabular_file_response(
                request=request,
                table=Table(columns=TRADE_COLUMNS, rows=trades, sheet="Trades"),
                data="trades",
                file_stem=f"{portfolio.code}-trades",
                target=portfolio,
                details=details,
            )
        page = self.paginate_queryset(trades)
        api_read_record(
            actor=request.user,
            portfolio=portfolio,
            data="trades",
            origin=RequestOrigin.of(request),
            details=details,
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
