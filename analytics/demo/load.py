"""``demo_load``: write the whole demo data set (see ``analytics.demo``).

Idempotency
-----------
Running the load twice with the same options leaves exactly one copy and the
same number of rows in every table; only the audit log grows (one
``data.loaded`` event per load, plus the entitlement events that
``entitlement_grant`` records). The approach:

* **Reference data is upserted by natural key** so that primary keys stay stable
  and rows of other apps that point at them (rules, report templates, ...)
  survive a reload: instruments by ``identifier``, benchmarks and portfolios by
  ``code``, users by ``username``, teams by ``name``, entitlements by
  (portfolio, user/team).
* **Time series the demo owns are replaced** inside the same transaction: prices
  and FX rates with ``source="demo"`` (prices only of the instruments this load
  writes), the returns and weights of the five demo benchmarks, the monthly
  factor returns with ``source="fama-french"``, and the ``source="demo"`` trades
  and cash flows of the demo portfolios. Positions are then re-derived from the
  trades by ``portfolio_positions_rebuild``, which replaces its own
  ``source="derived"`` rows, so they reconcile with the trades by construction.
* **Everything runs in one transaction**: a load that fails half-way leaves the
  previous copy untouched.

Nothing the demo does not own is deleted, so a smaller load after a larger one
(``--instruments``/``--portfolios``/``--days``) leaves the larger load's extra
instruments and portfolios (with their prices, trades and positions) in place.

Speed: the series are built with numpy/pandas before the first write and stored
with ``bulk_create`` in large batches, except the big ones (~750,000 prices,
~600,000 position snapshots and ~110,000 benchmark weights), which go through
``analytics.ingest.bulk_insert.bulk_insert_values`` (``executemany`` on SQLite,
``COPY`` on PostgreSQL: about ten times faster than ``bulk_create``). Measured on
a 2-core machine: about 27 s for a first full load on SQLite, 32 s for a reload
(which also deletes the previous copy), 34 s for a reload on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction

from analytics.demo import market, people
from analytics.demo.portfolios import (
    DEMO_SOURCE,
    PORTFOLIOS,
    inception_index,
    simulate_portfolio,
)
from analytics.demo.universe import build_universe
from analytics.ingest.bulk_insert import bulk_insert_values
from analytics.models import (
    Benchmark,
    BenchmarkReturn,
    BenchmarkWeight,
    CashFlow,
    FactorReturn,
    FxRate,
    Instrument,
    Portfolio,
    PositionSnapshot,
    Price,
    RiskLimitMetric,
    RiskWindow,
    Trade,
)
from analytics.services.positions import (
    cash_instruments_get_or_create,
    portfolio_positions_rebuild,
)
from analytics.services.risk_limits import risk_limits_replace
from portal.models import AuditAction, Entitlement, Team, User
from portal.services import audit_record

DEFAULT_SEED = 20130102
DEFAULT_INSTRUMENTS = 500
FACTOR_SOURCE = "fama-french"
# Django lowers this to what the backend takes in one statement (SQLite: 999
# parameters); PostgreSQL takes the whole batch.
BATCH_SIZE = 10_000

BENCHMARKS = {
    "SP500": ("S&P 500", "USD", "Real daily total returns of the S&P 500 ('Adj Close', arch)."),
    "NASDAQ-COMP": (
        "NASDAQ Composite",
        "USD",
        "Real daily total returns of the NASDAQ Composite ('Adj Close', arch).",
    ),
    "GLOBAL-EQ": (
        "Global Equity",
        "USD",
        "Market-cap-weighted index of the demo's equities in USD (synthetic); "
        "month-end constituent weights.",
    ),
    "GLOBAL-60-40": (
        "Global 60/40",
        "USD",
        "60 % Global Equity, 40 % the demo's government bonds (equal-weighted), in USD, "
        "rebalanced daily; month-end constituent weights.",
    ),
    "GLOBAL-80-20": (
        "Global 80/20",
        "USD",
        "80 % Global Equity, 20 % the demo's government bonds (equal-weighted), in USD, "
        "rebalanced daily; month-end constituent weights.",
    ),
}
BLENDS = {"GLOBAL-60-40": 0.6, "GLOBAL-80-20": 0.8}
"""The equity share of each blended benchmark (the rest is government bonds)."""

COUNTED = [
    Instrument,
    Price,
    FxRate,
    Benchmark,
    BenchmarkReturn,
    BenchmarkWeight,
    FactorReturn,
    Portfolio,
    Trade,
    CashFlow,
    PositionSnapshot,
    User,
    Team,
    Entitlement,
]


def _money(value: float, places: int = 6) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def demo_counts() -> dict[str, int]:
    """Rows in every table the demo writes (the audit log excluded)."""
    return {model._meta.label: model._default_manager.count() for model in COUNTED}


def demo_is_loaded() -> bool:
    """True when every demo portfolio exists and has derived positions."""
    codes = [spec.code for spec in PORTFOLIOS]
    loaded = (
        PositionSnapshot.objects.filter(portfolio__code__in=codes)
        .values("portfolio")
        .distinct()
        .count()
    )
    return loaded == len(codes)


def demo_load(
    *,
    seed: int = DEFAULT_SEED,
    instruments: int = DEFAULT_INSTRUMENTS,
    portfolios: int = len(PORTFOLIOS),
    days: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Build and store the demo data set; return the row counts per table.

    ``instruments`` is the size of the universe (of which 8 are bonds and ETFs;
    at least 60 for the portfolios to find their holdings), ``portfolios`` how
    many of the ten demo portfolios to create, ``days`` keeps only the first
    that many trading days of 2013–2018 (the last two make quick test loads).
    ``progress`` receives one line per step.
    """
    started = time.perf_counter()

    def say(message: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - started:5.1f}s] {message}")

    if instruments < 60:
        raise ValueError("the demo needs at least 60 instruments")
    if not 1 <= portfolios <= len(PORTFOLIOS):
        raise ValueError(f"portfolios must be between 1 and {len(PORTFOLIOS)}")
    if days is not None and days < 20:
        raise ValueError("the demo needs at least 20 trading days")
    rng = np.random.default_rng(seed)
    specs = PORTFOLIOS[:portfolios]

    # --- build everything in memory (pure numpy/pandas) -------------------------
    universe = build_universe(rng=rng, equities=instruments - 8)
    indices = market.index_returns()
    if days is not None:
        indices = indices.iloc[:days]
    calendar = indices.index
    usd_per_unit = market.simulate_fx(calendar=calendar, rng=rng)
    first_fx = market.first_fx_levels()
    universe["shares_outstanding"] = np.round(
        universe["market_cap_usd"]
        / (universe["first_price"] * first_fx[universe["currency"]].to_numpy())
    )
    closes = market.simulate_closes(universe=universe, indices=indices, rng=rng)
    global_returns, global_weights = market.global_equity_benchmark(
        universe=universe, closes=closes, usd_per_unit=usd_per_unit, first_fx=first_fx
    )
    bond_returns, bond_positions = market.government_bond_index(
        universe=universe, closes=closes, usd_per_unit=usd_per_unit, first_fx=first_fx
    )
    benchmark_series = {
        "SP500": (indices["sp500"], None),
        "NASDAQ-COMP": (indices["nasdaq"], None),
        "GLOBAL-EQ": (global_returns, global_weights),
        **{
            code: market.blended_benchmark(
                equity_share=share,
                equity_returns=global_returns,
                equity_weights=global_weights,
                bond_returns=bond_returns,
                bond_positions=bond_positions,
            )
            for code, share in BLENDS.items()
        },
    }
    fx_rows = market.fx_rate_rows(usd_per_unit)
    factors = market.factor_returns()
    simulated = [
        simulate_portfolio(
            spec=spec,
            universe=universe,
            closes=closes.to_numpy(),
            usd_per_unit=usd_per_unit,
            rng=rng,
        )
        for spec in specs
    ]
    trades = pd.concat([frame for frame, _ in simulated], ignore_index=True)
    flows = pd.concat([frame for _, frame in simulated], ignore_index=True)
    say(
        f"built {len(universe)} instruments × {len(calendar)} days, "
        f"{len(trades)} trades, {len(flows)} flows in memory"
    )

    with transaction.atomic():
        users = people.people_ensure()
        say(f"users and teams: {len(users)} demo users (password '{people.DEMO_PASSWORD}')")

        instrument_ids = _instruments_upsert(universe)
        cash = cash_instruments_get_or_create(currencies=usd_per_unit.columns)
        instrument_ids.update({f"CASH-{c}": instrument.id for c, instrument in cash.items()})
        say(f"instruments: {len(universe)} upserted, {len(cash)} cash instruments")

        written = _prices_replace(universe, closes, instrument_ids)
        say(f"prices: {written} closes")
        written = _fx_replace(fx_rows)
        say(f"fx rates: {written} rates")

        benchmarks = _benchmarks_replace(benchmark_series, universe, instrument_ids)
        say(f"benchmarks: {', '.join(benchmarks)}")
        written = factors_replace(factors)
        say(f"factor returns: {written} monthly Fama-French values")

        portfolio_rows = _portfolios_upsert(specs, users, benchmarks, calendar)
        traders = {
            spec.code: users[people.DESK_TRADERS.get(spec.desk, spec.owner)].id for spec in specs
        }
        written = _trades_and_flows_replace(trades, flows, portfolio_rows, instrument_ids, traders)
        say(f"portfolios: {len(portfolio_rows)}; trades and flows: {written}")
        grants = people.entitlements_ensure(
            portfolios={spec.code: (portfolio_rows[spec.code], spec.desk) for spec in specs}
        )
        say(f"entitlements: {grants} granted")

        snapshots = 0
        for spec in specs:
            snapshots += portfolio_positions_rebuild(portfolio=portfolio_rows[spec.code])
        say(f"positions: {snapshots} derived snapshots")
        limits = _risk_limits_replace(portfolio_rows.values())
        say(f"risk limits: {limits} (analytics snapshots are computed by the worker)")

        counts = demo_counts()
        audit_record(
            actor=None,
            action=AuditAction.DATA_LOADED,
            details={
                "loader": "analytics.demo.load_demo",
                "seed": seed,
                "instruments": instruments,
                "days": len(calendar),
                "portfolios": [spec.code for spec in specs],
                "counts": counts,
            },
        )
    say("done")
    return counts


def _instruments_upsert(universe: pd.DataFrame) -> dict[str, int]:
    rows = [
        Instrument(
            identifier=row.identifier,
            isin=row.isin,
            name=row.name,
            issuer=row.issuer,
            issuer_group=row.issuer_group,
            issuer_type=row.issuer_type,
            sector=row.sector,
            industry=row.industry,
            country=row.country,
            asset_class=row.asset_class,
            currency=row.currency,
            exchange=row.exchange,
            shares_outstanding=(
                None if np.isnan(row.shares_outstanding) else Decimal(int(row.shares_outstanding))
            ),
            is_active=True,
        )
        for row in universe.itertuples(index=False)
    ]
    Instrument.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["identifier"],
        update_fields=[
            "isin",
            "name",
            "issuer",
            "issuer_group",
            "issuer_type",
            "sector",
            "industry",
            "country",
            "asset_class",
            "currency",
            "exchange",
            "shares_outstanding",
            "is_active",
        ],
    )
    return dict(
        Instrument.objects.filter(identifier__in=universe["identifier"].tolist()).values_list(
            "identifier", "id"
        )
    )


def _prices_replace(
    universe: pd.DataFrame, closes: pd.DataFrame, instrument_ids: dict[str, int]
) -> int:
    ids = [instrument_ids[identifier] for identifier in universe["identifier"]]
    Price.objects.filter(source=DEMO_SOURCE, instrument_id__in=ids).delete()
    days = closes.index.date
    currencies = universe["currency"].tolist()
    values = closes.to_numpy()
    # ~750,000 rows: plain tuples through executemany (see bulk_insert_values).
    return bulk_insert_values(
        Price,
        ["instrument", "date", "close", "currency", "source"],
        (
            (instrument_id, day, Decimal(f"{close:.4f}"), currency, DEMO_SOURCE)
            for column, (instrument_id, currency) in enumerate(zip(ids, currencies, strict=True))
            for day, close in zip(days, values[:, column].tolist(), strict=True)
        ),
    )


def _fx_replace(fx_rows: pd.DataFrame) -> int:
    FxRate.objects.filter(source=DEMO_SOURCE).delete()
    FxRate.objects.bulk_create(
        [
            FxRate(
                date=day,
                base_currency=base,
                quote_currency=quote,
                rate=_money(rate),
                source=DEMO_SOURCE,
            )
            for day, base, quote, rate in fx_rows.itertuples(index=False, name=None)
        ],
        batch_size=BATCH_SIZE,
    )
    return len(fx_rows)


def _benchmarks_replace(
    series: dict[str, tuple[pd.Series, pd.DataFrame | None]],
    universe: pd.DataFrame,
    instrument_ids: dict[str, int],
) -> dict[str, Benchmark]:
    """Store every benchmark's daily returns and, where it has them, its month-end
    constituent weights (columns: universe row positions)."""
    benchmarks = {}
    for code, (name, currency, description) in BENCHMARKS.items():
        benchmarks[code], _ = Benchmark.objects.update_or_create(
            code=code, defaults={"name": name, "currency": currency, "description": description}
        )
    BenchmarkReturn.objects.filter(benchmark__in=benchmarks.values()).delete()
    BenchmarkWeight.objects.filter(benchmark__in=benchmarks.values()).delete()
    BenchmarkReturn.objects.bulk_create(
        [
            BenchmarkReturn(benchmark=benchmarks[code], date=day.date(), value=float(value))
            for code, (returns, _) in series.items()
            for day, value in returns.items()
        ],
        batch_size=BATCH_SIZE,
    )
    # ~110,000 rows for the weighted benchmarks: plain tuples (see bulk_insert_values).
    bulk_insert_values(
        BenchmarkWeight,
        ["benchmark", "instrument", "date", "weight"],
        (
            (benchmarks[code].id, instrument_id, day.date(), weight)
            for code, (_, weights) in series.items()
            if weights is not None
            for instrument_id, day, weight in _weight_rows(weights, universe, instrument_ids)
        ),
    )
    return benchmarks


def _weight_rows(weights: pd.DataFrame, universe: pd.DataFrame, instrument_ids: dict[str, int]):
    column_ids = [instrument_ids[universe["identifier"].iloc[row]] for row in weights.columns]
    for day, row in zip(weights.index, weights.to_numpy().tolist(), strict=True):
        for instrument_id, weight in zip(column_ids, row, strict=True):
            yield instrument_id, day, weight


def factors_replace(factors: pd.DataFrame) -> int:
    FactorReturn.objects.filter(source=FACTOR_SOURCE, frequency="M").delete()
    FactorReturn.objects.bulk_create(
        [
            FactorReturn(
                factor=factor, date=day, value=float(value), frequency="M", source=FACTOR_SOURCE
            )
            for factor, day, value in factors.itertuples(index=False, name=None)
        ],
        batch_size=BATCH_SIZE,
    )
    return len(factors)


DEMO_RISK_LIMITS = [
    {"metric": RiskLimitMetric.VAR_95, "window": RiskWindow.LAST_500_DAYS, "limit": 0.02},
    {"metric": RiskLimitMetric.VOLATILITY, "window": RiskWindow.ONE_YEAR, "limit": 0.20},
    {"metric": RiskLimitMetric.TRACKING_ERROR, "window": RiskWindow.ONE_YEAR, "limit": 0.08},
    # Drawdown limits on current risk: the fall from the last year's peak and from
    # the all-time peak, not a drawdown that has since recovered.
    {"metric": RiskLimitMetric.MAX_DRAWDOWN, "window": RiskWindow.ONE_YEAR, "limit": 0.20},
    {
        "metric": RiskLimitMetric.CURRENT_DRAWDOWN,
        "window": RiskWindow.SINCE_INCEPTION,
        "limit": 0.15,
    },
    {"metric": RiskLimitMetric.GROSS_EXPOSURE, "window": RiskWindow.AS_OF, "limit": 1.0},
    {"metric": RiskLimitMetric.TOP10_WEIGHT, "window": RiskWindow.AS_OF, "limit": 0.40},
    {"metric": RiskLimitMetric.LARGEST_POSITION, "window": RiskWindow.AS_OF, "limit": 0.05},
]
"""The house limits of every demo portfolio, each with the window it applies to."""

RISK_FREE_FACTOR = "RF"
"""The Fama-French one-month US Treasury bill rate: the USD portfolios' risk-free
series. The demo ships no euro or sterling bill rates, so the EUR and GBP
portfolios keep the constant ``ANALYTICS_RISK_FREE_RATE``, which their pages state."""


def _risk_limits_replace(portfolios) -> int:
    """The same house limits on every demo portfolio (warn at 90 %)."""
    written = 0
    for portfolio in portfolios:
        written += len(risk_limits_replace(portfolio=portfolio, limits=DEMO_RISK_LIMITS))
    return written


def _portfolios_upsert(specs, users, benchmarks, calendar) -> dict[str, Portfolio]:
    rows = {}
    for spec in specs:
        inception = calendar[inception_index(calendar, spec)].date()
        rows[spec.code], _ = Portfolio.objects.update_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "base_currency": spec.base_currency,
                "benchmark": benchmarks[spec.benchmark],
                "inception_date": inception,
                "owner": users[spec.owner],
                "strategy": spec.strategy,
                "risk_free_factor": RISK_FREE_FACTOR if spec.base_currency == "USD" else "",
                "is_active": True,
            },
        )
    return rows


def _trader_id(row, portfolio_rows: dict[str, Portfolio], traders: dict[str, int]) -> int | None:
    """Who executed a demo trade: none for an FX spot deal (no strategy), the
    desk's trader for a rebalancing trade, else the portfolio's manager."""
    if not row.strategy:
        return None
    if row.strategy == "rebalance":
        return traders[row.portfolio]
    return portfolio_rows[row.portfolio].owner_id


def _trades_and_flows_replace(
    trades: pd.DataFrame,
    flows: pd.DataFrame,
    portfolio_rows: dict[str, Portfolio],
    instrument_ids: dict[str, int],
    traders: dict[str, int],
) -> int:
    """Replace the demo's trades and flows. ``traders`` maps a portfolio code to
    the user who executes its rebalancing trades (the portfolio manager, its
    owner, executes the others: the decisions of a sleeve)."""
    portfolio_ids = {code: portfolio.id for code, portfolio in portfolio_rows.items()}
    Trade.objects.filter(portfolio_id__in=portfolio_ids.values(), source=DEMO_SOURCE).delete()
    CashFlow.objects.filter(portfolio_id__in=portfolio_ids.values(), source=DEMO_SOURCE).delete()
    Trade.objects.bulk_create(
        [
            Trade(
                portfolio_id=portfolio_ids[row.portfolio],
                instrument_id=instrument_ids[row.identifier],
                trade_date=row.trade_date,
                settle_date=row.settle_date,
                side=row.side,
                quantity=_money(row.quantity, 2),
                price=_money(row.price),
                fees=_money(row.fees, 2),
                currency=row.currency,
                external_id=row.external_id,
                source=DEMO_SOURCE,
                strategy=row.strategy,
                trader_id=_trader_id(row, portfolio_rows, traders),
            )
            for row in trades.itertuples(index=False)
        ],
        batch_size=BATCH_SIZE,
    )
    CashFlow.objects.bulk_create(
        [
            CashFlow(
                portfolio_id=portfolio_ids[row.portfolio],
                date=row.date,
                amount=_money(row.amount, 2),
                currency=row.currency,
                kind=row.kind,
                external_id=row.external_id,
                source=DEMO_SOURCE,
            )
            for row in flows.itertuples(index=False)
        ],
        batch_size=BATCH_SIZE,
    )
    return len(trades) + len(flows)
