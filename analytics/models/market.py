"""The data the portal reports on: instruments, portfolios, benchmarks, trades,
position snapshots, prices, FX rates, external cash flows and factor returns.

Conventions
-----------
* Quantities are signed only in positions (negative = short). Trades carry a
  positive quantity and a side.
* Prices and market values are in the instrument's currency ("local"); position
  snapshots also carry the value in the portfolio's base currency.
* ``FxRate.rate`` is the number of units of ``quote_currency`` for one unit of
  ``base_currency`` on that date (EURUSD 1.10: base EUR, quote USD, rate 1.10).
* A cash flow's ``amount`` is in ``currency``: positive for a subscription (money
  into the portfolio), negative for a redemption.
* Cash is held as positions in cash instruments (asset class ``cash``, price 1).
"""

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class DecimalPrecision(TypedDict):
    """``DecimalField`` precision, unpacked into each field: ``**MONEY``."""

    max_digits: int
    decimal_places: int


MONEY: DecimalPrecision = {"max_digits": 24, "decimal_places": 6}
QUANTITY: DecimalPrecision = {"max_digits": 24, "decimal_places": 6}
RATE: DecimalPrecision = {"max_digits": 20, "decimal_places": 10}


class AssetClass(models.TextChoices):
    EQUITY = "equity", "Equity"
    FIXED_INCOME = "fixed_income", "Fixed income"
    FUND = "fund", "Fund"
    DERIVATIVE = "derivative", "Derivative"
    COMMODITY = "commodity", "Commodity"
    CASH = "cash", "Cash"


class IssuerType(models.TextChoices):
    """What kind of body issues (or guarantees) the instrument, for the issuer limits
    that differ by issuer (UCITS Directive 2009/65/EC, Art. 52(3)-(4))."""

    CORPORATE = "corporate", "Corporate"
    GOVERNMENT = "government", "Government (a state or its local authorities)"
    SUPRANATIONAL = "supranational", "Supranational (public international body)"
    COVERED_BOND = "covered_bond", "Covered bond (credit institution, Art. 52(4))"


class Instrument(models.Model):
    """A tradable security. ``identifier`` is the portal's own unique key (a ticker
    such as ``AAPL`` or ``SAP.DE``); ``isin`` is optional but unique when given.
    ``exchange`` is an ISO 10383 MIC (``XNYS``, ``XETR``) naming the trading
    calendar used for staleness checks. ``issuer_group`` names the ultimate parent
    of the issuer's group for consolidated accounts (blank: the issuer stands
    alone); ``issuer_type`` says whether it is a corporate, government,
    supranational or covered-bond issue."""

    identifier = models.CharField(max_length=32, unique=True)
    isin = models.CharField(max_length=12, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200, db_index=True)
    issuer_group = models.CharField(
        max_length=200,
        blank=True,
        help_text="Ultimate parent of the issuer's group for consolidated accounts",
    )
    issuer_type = models.CharField(
        max_length=20, choices=IssuerType.choices, default=IssuerType.CORPORATE
    )
    sector = models.CharField(max_length=64, blank=True, db_index=True)
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    asset_class = models.CharField(
        max_length=20, choices=AssetClass.choices, default=AssetClass.EQUITY
    )
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    exchange = models.CharField(max_length=10, blank=True, help_text="ISO 10383 MIC")
    shares_outstanding = models.DecimalField(
        null=True, blank=True, help_text="Outstanding voting securities", **QUANTITY
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name}"


class Benchmark(models.Model):
    """A reference against which portfolios are compared: a daily return series
    (``BenchmarkReturn``), constituent weights (``BenchmarkWeight``), or both."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BenchmarkReturn(models.Model):
    """Simple total return of the benchmark for one day (0.01 = 1%), in its currency."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="returns")
    date = models.DateField()
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "date"], name="benchmark_return_unique")
        ]
        ordering = ["benchmark", "date"]

    def __str__(self) -> str:
        return f"{self.benchmark_id} {self.date} {self.value:+.4%}"


class BenchmarkWeight(models.Model):
    """Weight (fraction of the benchmark, summing to 1 per date) of a constituent."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="weights")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    weight = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["benchmark", "date", "instrument"], name="benchmark_weight_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.benchmark_id} {self.date} {self.instrument_id} {self.weight:.4%}"


class Portfolio(models.Model):
    """An investment portfolio. ``data_version`` increases whenever its trades,
    positions, prices or flows change, so that stored analytics can tell they are stale."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    base_currency = models.CharField(max_length=3)
    benchmark = models.ForeignKey(
        Benchmark, on_delete=models.SET_NULL, null=True, blank=True, related_name="portfolios"
    )
    inception_date = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_portfolios",
        help_text="The responsible portfolio manager; always has manage access.",
    )
    strategy = models.CharField(max_length=200, blank=True)
    risk_free_factor = models.CharField(
        max_length=32,
        blank=True,
        help_text=(
            "Factor code of the portfolio's risk-free series (monthly factor returns, "
            "e.g. the Fama-French RF); blank: the constant ANALYTICS_RISK_FREE_RATE."
        ),
    )
    data_version = models.PositiveBigIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TradeSide(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"


class Trade(models.Model):
    """An executed trade. ``quantity`` is positive; ``side`` gives the direction.
    ``price`` and ``fees`` are in ``currency`` (the instrument's trading currency).
    (``source``, ``external_id``) is the natural key that makes re-imports idempotent."""

    # No index of its own: the (portfolio, trade_date) index below starts with it.
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.PROTECT, related_name="trades", db_index=False
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="trades")
    trade_date = models.DateField()
    settle_date = models.DateField()
    side = models.CharField(max_length=4, choices=TradeSide.choices)
    quantity = models.DecimalField(validators=[MinValueValidator(Decimal("0"))], **QUANTITY)
    price = models.DecimalField(validators=[MinValueValidator(Decimal("0"))], **MONEY)
    fees = models.DecimalField(default=Decimal("0"), **MONEY)
    currency = models.CharField(max_length=3)
    external_id = models.CharField(max_length=64)
    source = models.CharField(max_length=64, default="manual")
    # Who executed the trade and the strategy it belongs to (a short tag such as
    # "momentum"), both optional: the trading review groups by them.
    trader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="trades",
        db_index=False,
    )
    strategy = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="trade_natural_key"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="trade_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="trade_price_not_negative"),
        ]
        # Trades are read per portfolio in date order (positions, reconciliation,
        # quality) or per portfolio and date (compliance), and per instrument
        # (splits). Every index costs each imported trade about a fifth of the
        # insert time, so there is none beyond these.
        indexes = [models.Index(fields=["portfolio", "trade_date"])]
        ordering = ["trade_date", "id"]

    def __str__(self) -> str:
        return f"{self.trade_date} {self.side} {self.quantity} {self.instrument_id}"

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == TradeSide.BUY else -self.quantity


# The ``source`` of positions the portal derives from trades; other sources are
# positions reported by a custodian, kept to reconcile against.
DERIVED_SOURCE = "derived"


class PositionBasis(models.TextChoices):
    """When a trade enters a holding: on its trade date or on its settle date."""

    TRADE_DATE = "trade_date", "Trade date"
    SETTLE_DATE = "settle_date", "Settle date"


class PositionSource(models.Model):
    """How a source of reported positions (``PositionSnapshot.source``) counts trades.

    A custodian usually reports settled holdings (settle-date basis), a fund
    administrator or order system traded ones (trade-date basis). Reconciliation
    compares a source's positions with the trades on the source's basis; a source
    without a row here is taken to report on a trade-date basis (the derived
    positions' basis), and the reconciliation says so.
    """

    name = models.CharField(max_length=64, unique=True, help_text="PositionSnapshot.source")
    basis = models.CharField(
        max_length=16, choices=PositionBasis.choices, default=PositionBasis.TRADE_DATE
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_basis_display().lower()} basis)"


class PositionSnapshot(models.Model):
    """A holding at the close of ``date``: signed quantity, the close price used,
    market value in the instrument's currency and in the portfolio's base currency
    (null when the FX rate to convert it was missing)."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="positions")
    date = models.DateField()
    quantity = models.DecimalField(**QUANTITY)
    price = models.DecimalField(null=True, blank=True, **MONEY)
    market_value_local = models.DecimalField(null=True, blank=True, **MONEY)
    market_value_base = models.DecimalField(null=True, blank=True, **MONEY)
    source = models.CharField(max_length=64, default=DERIVED_SOURCE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "date", "instrument", "source"], name="position_unique"
            )
        ]
        indexes = [models.Index(fields=["portfolio", "date"])]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.date} {self.instrument_id} {self.quantity}"


class Price(models.Model):
    """Closing price of an instrument on a date, in ``currency``, from ``source``."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="prices")
    date = models.DateField()
    close = models.DecimalField(validators=[MinValueValidator(Decimal("0"))], **MONEY)
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=64, default="demo")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "date", "source"], name="price_unique"),
            models.CheckConstraint(condition=Q(close__gte=0), name="price_not_negative"),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.date} {self.close} {self.currency}"


class FxRate(models.Model):
    """Units of ``quote_currency`` for one unit of ``base_currency`` at the close of ``date``."""

    date = models.DateField()
    base_currency = models.CharField(max_length=3)
    quote_currency = models.CharField(max_length=3)
    rate = models.DecimalField(**RATE)
    source = models.CharField(max_length=64, default="demo")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["base_currency", "quote_currency", "date", "source"], name="fx_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_positive"),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.base_currency}{self.quote_currency} {self.rate}"


class CashFlowKind(models.TextChoices):
    SUBSCRIPTION = "subscription", "Subscription"
    REDEMPTION = "redemption", "Redemption"


class CashFlow(models.Model):
    """An external flow: money into (positive) or out of (negative) the portfolio.
    Positions count it in the cash balance at the close of ``date``; time-weighted
    returns treat it as arriving at the end of that day by default (it earns
    nothing that day), see ``analytics.engine.flows.daily_time_weighted_returns``."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="cash_flows")
    date = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=16, choices=CashFlowKind.choices)
    external_id = models.CharField(max_length=64)
    source = models.CharField(max_length=64, default="manual")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="cash_flow_natural_key")
        ]
        indexes = [models.Index(fields=["portfolio", "date"])]
        ordering = ["portfolio", "date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind} {self.amount} {self.currency}"


class FactorReturn(models.Model):
    """Return of a risk factor over one period (monthly Fama-French by default),
    as a simple fraction (0.01 = 1%). ``date`` is the period's last day."""

    factor = models.CharField(max_length=32)
    date = models.DateField()
    value = models.FloatField()
    frequency = models.CharField(max_length=1, default="M", help_text="D daily, M monthly")
    source = models.CharField(max_length=64, default="fama-french")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["factor", "date", "frequency", "source"], name="factor_return_unique"
            )
        ]
        ordering = ["factor", "date"]

    def __str__(self) -> str:
        return f"{self.factor} {self.date} {self.value:+.4%}"
