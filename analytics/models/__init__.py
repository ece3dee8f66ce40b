"""Models of the analytics app, one module per concern:

* ``market``: instruments, benchmarks, portfolios, trades, positions, prices, FX,
  cash flows and factor returns (the data the portal reports on);
* ``snapshots``: stored analytics results and per-portfolio risk limits;
* ``ingest``: import runs, HTTP pull sources and their fetch log, push
  idempotency keys, corporate actions (splits);
* ``quality``: data-quality findings and per-portfolio, per-date completeness.
"""

from analytics.models.ingest import (
    CorporateAction,
    CorporateActionKind,
    DataFetch,
    DataFormat,
    DataKind,
    DataSource,
    FetchOutcome,
    IdempotencyKey,
    ImportOrigin,
    ImportRun,
    ImportStatus,
)
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
from analytics.models.quality import (
    DataQualityFinding,
    FindingKind,
    PortfolioDataStatus,
    Severity,
)
from analytics.models.snapshots import AnalyticsSnapshot, RiskLimit, RiskLimitMetric, SnapshotStatus

__all__ = [
    "CorporateAction",
    "CorporateActionKind",
    "DataFetch",
    "DataFormat",
    "DataKind",
    "DataQualityFinding",
    "DataSource",
    "FetchOutcome",
    "FindingKind",
    "IdempotencyKey",
    "ImportOrigin",
    "ImportRun",
    "ImportStatus",
    "PortfolioDataStatus",
    "Severity",
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
