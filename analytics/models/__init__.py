"""Models of the analytics app, one module per concern:

* ``market``: instruments, benchmarks, portfolios, trades, positions, prices, FX,
  cash flows and factor returns (the data the portal reports on);
* ``snapshots``: stored analytics results and per-portfolio risk limits.
"""

from analytics.models.market import (
    MONEY,
    QUANTITY,
    RATE,
    AssetClass,
    Benchmark,
    BenchmarkReturn,
    BenchmarkWeight,
    CashFlow,
    CashFlowKind,
    FactorReturn,
    FxRate,
    Instrument,
    Portfolio,
    PositionSnapshot,
    Price,
    Trade,
    TradeSide,
)
from analytics.models.snapshots import AnalyticsSnapshot, RiskLimit, RiskLimitMetric, SnapshotStatus

__all__ = [
    "AnalyticsSnapshot",
    "AssetClass",
    "Benchmark",
    "BenchmarkReturn",
    "BenchmarkWeight",
    "CashFlow",
    "CashFlowKind",
    "FactorReturn",
    "FxRate",
    "Instrument",
    "MONEY",
    "Portfolio",
    "PositionSnapshot",
    "Price",
    "QUANTITY",
    "RATE",
    "RiskLimit",
    "RiskLimitMetric",
    "SnapshotStatus",
    "Trade",
    "TradeSide",
]
